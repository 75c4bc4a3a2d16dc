#!/usr/bin/env -S node --max-semi-space-size=8 --single-threaded-gc
// Entry point of the `etcd-ts` command; the code is compiled to dist/ by `npm run build`.
'use strict';
require('../dist/src/cli/main.js').main(process.argv.slice(2), process.env);
