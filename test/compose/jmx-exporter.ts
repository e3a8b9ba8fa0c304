// The Prometheus JMX exporter as the compose tests read it: the Java agent in a JVM's options, and the
// metric names the rules of its configuration make.
export interface JmxRule {
  pattern: string;
  name?: string;
  type?: string;
}
export interface JmxExporterConfig {
  lowercaseOutputName?: boolean;
  rules: JmxRule[];
}

/** `-javaagent:<jar>=[host:]<port>:<config>` in a JVM options string. */
export function javaAgentOf(opts: string | undefined): { jar: string; port: number; config: string } | undefined {
  const m = /-javaagent:(\S+?\.jar)=(?:[^:\s]+:)?(\d+):(\S+)/.exec(opts ?? '');
  return m ? { jar: m[1]!, port: Number(m[2]), config: m[3]! } : undefined;
}

/**
 * The metric names a JMX exporter rule can produce, as patterns: `$n` stands for what the n-th group of
 * the rule's pattern matched (each alternative when the group is a list of words); the exporter turns
 * other characters into `_`, lowercases the name with lowercaseOutputName, and keeps `_total` only on a
 * counter (verified with jmx_prometheus_javaagent 1.0.1 against MBeans named like Kafka's and Debezium's).
 */
export function jmxRuleNames(rule: JmxRule, lowercase: boolean): RegExp[] {
  if (!rule.name) return [];
  const groups: string[] = [];
  for (let i = 0; i < rule.pattern.length; i++) {
    if (rule.pattern[i] !== '(' || rule.pattern[i - 1] === '\\' || rule.pattern[i + 1] === '?') continue;
    let depth = 0;
    for (let j = i; j < rule.pattern.length; j++) {
      if (rule.pattern[j] === '(' && rule.pattern[j - 1] !== '\\') depth++;
      if (rule.pattern[j] === ')' && rule.pattern[j - 1] !== '\\' && --depth === 0) {
        groups.push(rule.pattern.slice(i + 1, j));
        break;
      }
    }
  }
  const expand = (name: string): string[] => {
    const m = /\$(\d)/.exec(name);
    if (!m) return [name];
    const group = groups[Number(m[1]) - 1] ?? '';
    const words = /^[\w-]+(\|[\w-]+)*$/.test(group) ? group.split('|') : ['\u0000'];
    return words.flatMap((w) => expand(name.replace(m[0], w)));
  };
  return expand(rule.name).map((raw) => {
    let name = raw.replace(/[^a-zA-Z0-9_:\u0000]/g, '_');
    if (lowercase) name = name.toLowerCase();
    if (rule.type === 'COUNTER' && !name.endsWith('_total')) name += '_total';
    if (rule.type !== 'COUNTER') name = name.replace(/_total$/, '');
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\u0000/g, '[a-z0-9_]+');
    return new RegExp(`^${escaped}$`);
  });
}
