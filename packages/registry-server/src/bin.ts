#!/usr/bin/env node
import { run } from './cli.js';

const code = await run(process.argv.slice(2));
// `serve` keeps the process alive through its server; anything else ends here.
if (code !== 0) process.exit(code);
