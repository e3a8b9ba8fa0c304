// The members of the local stack: how each is prepared, started and checked for readiness (one module
// per kind), and the stack they make up.
export { logFile, pidFile, StackMemberError, type Component, type ComponentKind } from './common';
export { keepSlotWalBounded, pgClient, pgDataDir, pgMemberName } from './pg-node';
export { pgMember } from './postgres';
export { armStandby, fence, nodeRoles, standbyNameOf } from './pg-standby';
export { pgProxy } from './pg-proxy';
export { kafkaAdmin, replicationOf } from './kafka';
export { setScramCredential } from './kafka-security';
export { mongoClient } from './mongo';
export { components, dependenciesOf, strayMembers } from './members';
