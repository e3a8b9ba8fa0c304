// The names statements are prepared under (createDb with PG_PREPARED_STATEMENTS): one per text, none for a
// text that reads or returns `*` or has more than PREPARED_MAX_PARAMETERS parameters, none past the bound.
import { PREPARED_MAX_PARAMETERS } from './addresses';
import { statementNames } from './db';

describe('statementNames', () => {
  it('names each text once and leaves `*` unnamed', () => {
    const nameOf = statementNames(10);
    const first = nameOf('select "a" from "t" where "id" = $1', 1);
    expect(first).toBeDefined();
    expect(nameOf('select "a" from "t" where "id" = $1', 1)).toBe(first);
    for (const star of [
      'select * from "t" where "id" = $1',
      'select "t".* from "t" where "id" = $1',
      'insert into "t" ("id") values ($1) returning *',
      'insert into "t" ("id") values ($1) returning *;',
      'select row_to_json("t".*) from "t" where "id" = $1',
    ])
      expect(nameOf(star, 1)).toBeUndefined();
    const count = nameOf('select count(*) from "t" where "id" = $1', 1);
    expect(count).toBeDefined();
    expect(count).not.toBe(first);
  });

  it('leaves long parameter lists unnamed and stops at its bound', () => {
    const nameOf = statementNames(2);
    expect(nameOf('select "a" from "t" where "id" = any($1)', PREPARED_MAX_PARAMETERS + 1)).toBeUndefined();
    expect(nameOf('select "a" from "t" where "id" = $1', 1)).toBeDefined();
    expect(nameOf('select "b" from "t" where "id" = $1', 1)).toBeDefined();
    expect(nameOf('select "c" from "t" where "id" = $1', 1)).toBeUndefined();
  });
});
