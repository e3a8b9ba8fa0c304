// What each Kafka principal of the shop may do (the brokers' ACLs), and applying it to a cluster.
//
// Only Kafka Connect (Debezium) and the relay write the outbox topics; each service reads the topics it
// consumes, writes the dead letters of those topics and commits its own group's offsets, and nothing else.
// The operator's tools and the brokers themselves are super users. The policy is stated here once: the
// local stack applies it (npm run stack -- up), docker/kafka/acls.sh is generated from it for compose
// (npm run -s compose-init -- --write), and test/stack/kafka-access.unit.test.ts checks it against the
// topics and groups each service really uses.
import kafkajs, { type Admin, type AclEntry } from 'kafkajs';
import { TOPIC_PREFIX } from '../events/registry';
import { dlqTopicOf } from '../messaging/consumer/dead-letter';
import type { KafkaPrincipal } from '../infra/credentials';

// kafkajs is CommonJS and Node's ESM loader does not see these names among its exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export type Operation = 'read' | 'write' | 'create' | 'describe' | 'describe-configs' | 'all';

/** One grant: `principal` may do `operations` on the topics / groups / transactional ids `name` (or beginning with it). */
export interface Grant {
  principal: KafkaPrincipal;
  resource: 'topic' | 'group' | 'transactional-id';
  name: string;
  pattern: 'literal' | 'prefixed';
  operations: Operation[];
}

/** Principals whose every request is allowed (the brokers' super.users): the operator's tools and the brokers. */
export const SUPER_USERS = ['operator', 'broker'] as const;

/** What each service consumes, under which consumer group (the defaults of <SERVICE>_GROUP). */
export const SERVICE_CONSUMPTION: Record<Exclude<KafkaPrincipal, 'operator' | 'connect' | 'relay'>, { topics: string[]; group: string }> = {
  catalog: { topics: ['qtshop.inventory'], group: 'qtshop-catalog' },
  inventory: { topics: ['qtshop.product', 'qtshop.order'], group: 'qtshop-inventory' },
  basket: { topics: ['qtshop.product', 'qtshop.order'], group: 'qtshop-basket' },
  'order-command': { topics: ['qtshop.inventory', 'qtshop.product'], group: 'qtshop-order-command' },
  'order-query': { topics: ['qtshop.order'], group: 'qtshop-order-query' },
};

/** Kafka Connect's group and internal topics (the local stack's worker and the compose files say the same). */
export const CONNECT_GROUP = 'qtshop-connect';
export const CONNECT_TOPIC_PREFIX = 'qtshop-connect-';
/** Debezium's heartbeat records go to __debezium-heartbeat.<topic.prefix>. */
const HEARTBEAT_TOPIC_PREFIX = '__debezium-heartbeat';
/** Defaults of RELAY_CONFIRM_GROUP and OUTBOX_TRANSACTIONAL_ID_PREFIX. */
const RELAY_CONFIRM_GROUP = 'qtshop-relay-confirm';
const RELAY_TRANSACTIONAL_ID_PREFIX = 'qtshop-relay';

/**
 * The grants. The publishers hold the whole `qtshop.` prefix: an outbox topic is `qtshop.<aggregatetype>`,
 * named by a column of the row the EventRouter routes by, so a new aggregate type needs no new ACL.
 */
export function kafkaGrants(): Grant[] {
  const services = Object.entries(SERVICE_CONSUMPTION).flatMap(([principal, { topics, group }]): Grant[] => [
    // describe-configs: a service checks its topics' retention against its inbox's (messaging/inbox/retention.ts).
    ...topics.map((name): Grant => ({
      principal: principal as KafkaPrincipal,
      resource: 'topic',
      name,
      pattern: 'literal',
      operations: ['read', 'describe', 'describe-configs'],
    })),
    ...topics.map((t): Grant => ({
      principal: principal as KafkaPrincipal,
      resource: 'topic',
      name: dlqTopicOf(t),
      pattern: 'literal',
      operations: ['write', 'create', 'describe', 'describe-configs'],
    })),
    // Prefixed: a second instance group of the same service (a test's, a blue/green deployment's) is still its own.
    { principal: principal as KafkaPrincipal, resource: 'group', name: group, pattern: 'prefixed', operations: ['read', 'describe'] },
  ]);
  return [
    { principal: 'connect', resource: 'topic', name: TOPIC_PREFIX, pattern: 'prefixed', operations: ['write', 'create', 'describe'] },
    { principal: 'connect', resource: 'topic', name: HEARTBEAT_TOPIC_PREFIX, pattern: 'prefixed', operations: ['write', 'create', 'describe'] },
    {
      principal: 'connect',
      resource: 'topic',
      name: CONNECT_TOPIC_PREFIX,
      pattern: 'prefixed',
      operations: ['read', 'write', 'create', 'describe', 'describe-configs'],
    },
    { principal: 'connect', resource: 'group', name: CONNECT_GROUP, pattern: 'literal', operations: ['read', 'describe'] },
    // The relay publishes (polling, repair), confirms by reading the outbox topics, and exports every group's lag.
    { principal: 'relay', resource: 'topic', name: TOPIC_PREFIX, pattern: 'prefixed', operations: ['read', 'write', 'create', 'describe', 'describe-configs'] },
    { principal: 'relay', resource: 'group', name: RELAY_CONFIRM_GROUP, pattern: 'prefixed', operations: ['read', 'describe'] },
    { principal: 'relay', resource: 'group', name: 'qtshop-', pattern: 'prefixed', operations: ['describe'] },
    { principal: 'relay', resource: 'transactional-id', name: RELAY_TRANSACTIONAL_ID_PREFIX, pattern: 'prefixed', operations: ['write', 'describe'] },
    ...services,
  ];
}

const RESOURCE = { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP, 'transactional-id': AclResourceTypes.TRANSACTIONAL_ID } as const;
const PATTERN = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED } as const;
const OPERATION: Record<Operation, kafkajs.AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  create: AclOperationTypes.CREATE,
  describe: AclOperationTypes.DESCRIBE,
  'describe-configs': AclOperationTypes.DESCRIBE_CONFIGS,
  all: AclOperationTypes.ALL,
};

/** The ACL entries of `grants`, one per operation. */
export function aclEntries(grants: Grant[]): AclEntry[] {
  return grants.flatMap((g) =>
    g.operations.map((op) => ({
      resourceType: RESOURCE[g.resource],
      resourceName: g.name,
      resourcePatternType: PATTERN[g.pattern],
      principal: `User:${g.principal}`,
      host: '*',
      operation: OPERATION[op],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

const keyOf = (a: AclEntry) => [a.resourceType, a.resourceName, a.resourcePatternType, a.principal, a.host, a.operation, a.permissionType].join('|');

/**
 * Makes the cluster's ACLs for the shop's principals exactly `grants`: creates the missing ones and deletes
 * the others of those principals (a grant removed from the policy is removed from the cluster). Needs a
 * super user's client. Returns what it changed.
 */
export async function applyKafkaGrants(admin: Admin, grants: Grant[] = kafkaGrants()): Promise<{ created: number; deleted: number }> {
  const wanted = aclEntries(grants);
  const principals = new Set(wanted.map((a) => a.principal));
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const existing: AclEntry[] = described.resources.flatMap((r) =>
    r.acls.map((a) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      resourcePatternType: r.resourcePatternType,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
    })),
  );
  const have = new Set(existing.map(keyOf));
  const want = new Set(wanted.map(keyOf));
  const missing = wanted.filter((a) => !have.has(keyOf(a)));
  const extra = existing.filter((a) => principals.has(a.principal) && !want.has(keyOf(a)));
  if (missing.length > 0) await admin.createAcls({ acl: missing });
  if (extra.length > 0) await admin.deleteAcls({ filters: extra });
  return { created: missing.length, deleted: extra.length };
}
