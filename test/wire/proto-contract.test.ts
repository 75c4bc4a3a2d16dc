// Proves our proto/ is wire-identical to the etcd API that real clients are built
// from: every service, method, message, field and enum value of the .proto files
// shipped by the `etcd3` npm package must exist in ours with the same name,
// number, type, label, oneof and streaming shape.
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

const root = path.resolve(__dirname, '..', '..');
const theirsDir = path.join(root, 'node_modules', 'etcd3', 'proto');
const oursDir = path.join(root, 'proto');
const files = ['rpc.proto', 'kv.proto', 'auth.proto'];

function load(dir: string): protobuf.Root {
  const r = new protobuf.Root();
  // Both trees import siblings by bare or "./" names; resolve them inside `dir`.
  r.resolvePath = (_origin, target) => path.join(dir, path.basename(target));
  r.loadSync(files.map((f) => path.join(dir, f)), { keepCase: true });
  r.resolveAll();
  return r;
}

function walk(ns: protobuf.NamespaceBase, out: protobuf.ReflectionObject[] = []): protobuf.ReflectionObject[] {
  for (const child of ns.nestedArray) {
    out.push(child);
    if (child instanceof protobuf.Namespace) walk(child, out);
  }
  return out;
}

/**
 * The etcd3 package renamed etcd's enum constants to CamelCase (`NotEqual` for
 * etcd's `NOT_EQUAL`). Only the numbers travel on the wire; we keep etcd's own
 * spelling (the JSON gateway uses it), so names are compared without case and
 * underscores, and numbers exactly.
 */
const enumKey = (name: string): string => name.replace(/_/g, '').toLowerCase();

function fieldShape(f: protobuf.Field) {
  f.resolve();
  return {
    id: f.id,
    type: f.resolvedType ? f.resolvedType.fullName : f.type,
    repeated: f.repeated,
    map: f.map,
    oneof: f.partOf ? f.partOf.name : null,
  };
}

const theirs = load(theirsDir);
const ours = load(oursDir);
const theirObjects = walk(theirs);

describe('proto/ matches the etcd v3 wire contract', () => {
  it('has every message of etcd3 with identical fields', () => {
    const types = theirObjects.filter((o): o is protobuf.Type => o instanceof protobuf.Type);
    expect(types.length).toBeGreaterThan(100);
    for (const t of types) {
      const mine = ours.lookupType(t.fullName);
      for (const f of t.fieldsArray) {
        const m = mine.fields[f.name];
        expect(m, `${t.fullName}.${f.name} missing`).toBeDefined();
        expect(fieldShape(m!), `${t.fullName}.${f.name}`).toEqual(fieldShape(f));
      }
      for (const o of t.oneofsArray) {
        expect(mine.oneofs?.[o.name]?.oneof, `${t.fullName} oneof ${o.name}`).toEqual(o.oneof);
      }
    }
  });

  it('has every enum of etcd3 with identical values', () => {
    const enums = theirObjects.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum);
    expect(enums.length).toBeGreaterThanOrEqual(10);
    for (const e of enums) {
      const mine = ours.lookupEnum(e.fullName);
      const mineByKey = new Map(Object.entries(mine.values).map(([k, v]) => [enumKey(k), v]));
      for (const [name, num] of Object.entries(e.values)) {
        expect(mineByKey.get(enumKey(name)), `${e.fullName}.${name}`).toBe(num);
      }
    }
  });

  it('has every service and method of etcd3 with identical types and streaming', () => {
    const services = theirObjects.filter((o): o is protobuf.Service => o instanceof protobuf.Service);
    expect(services.map((s) => s.name).sort()).toEqual(['Auth', 'Cluster', 'KV', 'Lease', 'Maintenance', 'Watch']);
    for (const s of services) {
      const mine = ours.lookupService(s.fullName);
      for (const m of s.methodsArray) {
        const mm = mine.methods[m.name];
        expect(mm, `${s.fullName}.${m.name} missing`).toBeDefined();
        m.resolve();
        mm!.resolve();
        expect(
          [mm!.resolvedRequestType!.fullName, mm!.resolvedResponseType!.fullName, !!mm!.requestStream, !!mm!.responseStream],
          `${s.fullName}.${m.name}`,
        ).toEqual([m.resolvedRequestType!.fullName, m.resolvedResponseType!.fullName, !!m.requestStream, !!m.responseStream]);
      }
    }
  });

  it('encodes a message byte for byte as etcd3 does', () => {
    const value = {
      key: Buffer.from('k'), range_end: Buffer.from('l'), limit: 7, revision: 3, sort_order: 2,
      sort_target: 4, serializable: true, keys_only: true, max_create_revision: 9,
    };
    const a = theirs.lookupType('etcdserverpb.RangeRequest');
    const b = ours.lookupType('etcdserverpb.RangeRequest');
    expect(Buffer.from(b.encode(b.fromObject(value)).finish())).toEqual(Buffer.from(a.encode(a.fromObject(value)).finish()));
  });
});
