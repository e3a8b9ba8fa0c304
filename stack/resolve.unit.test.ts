import { mavenFailureSummary } from './resolve';

describe('mavenFailureSummary', () => {
  it('names the artifact Maven could not find, not the project coordinates', () => {
    const out = [
      '[INFO] Building kafka 1',
      '[ERROR] Failed to execute goal on project kafka: Could not resolve dependencies for project qtshop.stack:kafka:pom:1: Could not find artifact org.apache.kafka:kafka_2.13:jar:9.9.9 in central (https://repo.maven.apache.org/maven2) -> [Help 1]',
      '[ERROR] ',
      '[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.',
      '[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/DependencyResolutionException',
    ];
    const msg = mavenFailureSummary(out);
    expect(msg).toMatch(/^Maven could not resolve the stack: artifact org\.apache\.kafka:kafka_2\.13:jar:9\.9\.9 failed/);
    expect(msg).toContain('Failed to execute goal on project kafka');
    expect(msg).not.toContain('re-run Maven');
  });

  it('names the artifact of a transfer failure (no network)', () => {
    const msg = mavenFailureSummary([
      '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-dependency-plugin:3.8.1:unpack (debezium-postgres-plugin) on project debezium: Unable to find/resolve artifact.: Could not transfer artifact io.debezium:debezium-connector-postgres:tar.gz:plugin:3.3.2.Final from/to central: Connection refused',
    ]);
    expect(msg).toMatch(/artifact io\.debezium:debezium-connector-postgres:tar\.gz:plugin:3\.3\.2\.Final failed/);
  });

  it('falls back to the last lines when Maven names no artifact', () => {
    const msg = mavenFailureSummary(['[INFO] something', 'BUILD FAILURE']);
    expect(msg).toBe('Maven could not resolve the stack\n[INFO] something\nBUILD FAILURE');
  });
});
