#!/usr/bin/env node
// Generates TypeScript types for every message in proto/ into src/gen/, so the
// wire types are written once (in the .proto files) and never again by hand.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const protoDir = path.join(root, 'proto');
const outDir = path.join(root, 'src', 'gen');
const protos = fs.readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort();
if (protos.length === 0) throw new Error(`no .proto files in ${protoDir}`);

fs.rmSync(outDir, { recursive: true, force: true });
const bin = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
execFileSync(process.execPath, [
  bin,
  '--keepCase', '--longs=String', '--enums=String', '--defaults', '--oneofs', '--bytes=Buffer',
  '--grpcLib=@grpc/grpc-js', '--outDir', outDir, '-I', protoDir, ...protos,
], { stdio: 'inherit', cwd: root });
