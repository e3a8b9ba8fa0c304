// The relays the benchmark knows, by the name --relays gives them.
import type { RelayAdapter } from './adapter';
import { baseline } from './baseline';
import { debezium } from './debezium';
import type { RelayKind } from './options';
import { polling } from './polling';

export const RELAYS: Record<RelayKind, RelayAdapter> = { baseline, debezium, polling };
