// The stack as a whole: its members in start order, what each waits for, and members left over from
// another shape of the stack (another STACK_BROKERS or STACK_CONNECT_WORKERS).
import { existsSync, readdirSync } from 'node:fs';
import type { StackConfig } from '../config';
import type { Component } from './common';
import { connectMember } from './connect';
import { kafkaMember } from './kafka';
import { mongo } from './mongo';
import { pgProxy } from './pg-proxy';
import { pgMember } from './postgres';

/**
 * The stack's members in start order: PostgreSQL (one server, or two nodes and the proxy that holds the
 * primary's address), the brokers, the Connect workers (they need Kafka), MongoDB.
 */
export function components(cfg: StackConfig): Component[] {
  const pg = cfg.infra.pg.nodes.length ? [...cfg.infra.pg.nodes.map((n) => pgMember(cfg, n.id)), pgProxy] : [pgMember(cfg)];
  return [...pg, ...cfg.infra.kafka.nodes.map((n) => kafkaMember(cfg, n.id)), ...cfg.infra.connect.workers.map((w) => connectMember(cfg, w.id)), mongo];
}

/** What a member waits for before it starts: a Connect worker needs every broker ready; a member may name more (dependsOn). */
export function dependenciesOf(cfg: StackConfig, c: Component, all: Component[]): Component[] {
  const named = new Set(c.dependsOn?.(cfg) ?? []);
  return all.filter((x) => (c.kind === 'connect' && x.kind === 'kafka') || named.has(x.name));
}

/**
 * Members whose pid file is in the run folder though the current settings do not name them (the stack was
 * brought up with another STACK_BROKERS or STACK_CONNECT_WORKERS): `down` stops them too.
 */
export function strayMembers(cfg: StackConfig): Component[] {
  if (!existsSync(cfg.paths.run)) return [];
  const known = new Set(components(cfg).map((c) => c.name));
  const out: Component[] = [];
  for (const f of readdirSync(cfg.paths.run)) {
    if (/^(postgres-\d+|pg-proxy)\.pid$/.test(f) && !known.has(f.slice(0, -4))) {
      // The standby and the proxy of a stack brought up with STACK_PG_STANDBY.
      const shape = { ...cfg, infra: { ...cfg.infra, pg: { ...cfg.infra.pg, nodes: [1, 2].map((id) => ({ id, port: 0 })) } } };
      out.push(f === 'pg-proxy.pid' ? pgProxy : pgMember(shape, Number(f.slice(9, -4))));
      continue;
    }
    const m = /^(kafka|connect)(?:-(\d+))?\.pid$/.exec(f);
    if (!m || known.has(f.slice(0, -4))) continue;
    const id = Number(m[2] ?? 1);
    // The member as that shape named it: numbered in a cluster, bare alone.
    const shape = { ...cfg, infra: { ...cfg.infra } };
    if (m[1] === 'kafka') {
      const n = m[2] ? Math.max(2, id) : 1;
      shape.infra.kafka = { ...cfg.infra.kafka, nodes: Array.from({ length: n }, (_, i) => ({ id: i + 1, port: 0, controllerPort: 0 })) };
      out.push(kafkaMember(shape, id));
    } else {
      const n = m[2] ? Math.max(2, id) : 1;
      shape.infra.connect = { ...cfg.infra.connect, workers: Array.from({ length: n }, (_, i) => ({ id: i + 1, port: 0, url: '' })) };
      out.push(connectMember(shape, id));
    }
  }
  return out;
}
