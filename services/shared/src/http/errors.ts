// How every HTTP error is told to the client: the one error type handlers throw (AppError), the body every
// error response has (ErrorBody), and input parsing that names each offending field. A leaf: it imports
// nothing of the HTTP stack, so that anything may throw an AppError without depending on the web server.
import { z } from 'zod';

/** The body of every error response (components/schemas/Error of each OpenAPI document). */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('What went wrong, for programs: validation_failed, not_found, unauthorized, conflict, price_changed, ...'),
    message: z.string().describe('What went wrong, for people'),
    fields: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('validation_failed: each offending field (dotted path) and why'),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one error type handlers throw; everything else is a 500 with the detail only in the log. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Array<{ path: string; message: string }>,
  ) {
    super(message);
    this.name = 'AppError';
  }
  static notFound(what: string): AppError {
    return new AppError(404, 'not_found', `${what} not found`);
  }
  static conflict(message: string): AppError {
    return new AppError(409, 'conflict', message);
  }
}

/** Parses `input` with `schema`; a failure is a 400 naming every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where = 'body'): z.output<S> {
  const res = schema.safeParse(input);
  if (res.success) return res.data;
  const fields = res.error.issues.flatMap((i) => {
    const at = (extra: PropertyKey[] = []) => [...i.path, ...extra].map(String).join('.') || where;
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: at([k]), message: 'unknown field' }));
    return [{ path: at(), message: i.message }];
  });
  throw new AppError(400, 'validation_failed', fields.map((f) => `${f.path}: ${f.message}`).join('; '), fields);
}
