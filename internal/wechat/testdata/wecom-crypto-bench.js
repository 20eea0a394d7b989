// The baseline of BenchmarkDecryptVsWeComCrypto: @wecom/crypto, WeCom's own
// Node library, verifying and decrypting the benchmark's vector.
//
// Usage: node wecom-crypto-bench.js DIR < vector.json
// DIR is where to resolve @wecom/crypto from (a folder with node_modules),
// or the package's own folder. Prints one line of JSON. Exits 3 when the
// package cannot be found, so the benchmark skips with a message.
'use strict';

const fs = require('fs');
const path = require('path');

const from = process.argv[2];
let lib;
let version;
try {
  const main = fs.existsSync(path.join(from, 'package.json')) &&
      JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8')).name === '@wecom/crypto'
    ? require.resolve(from)
    : require.resolve('@wecom/crypto', { paths: [from] });
  lib = require(main);
  let dir = path.dirname(main);
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
} catch (e) {
  process.stderr.write(`@wecom/crypto not found from ${from}: ${e.message}\n`);
  process.exit(3);
}

const v = JSON.parse(fs.readFileSync(0, 'utf8'));

// One callback: check msg_signature, then decrypt, as the library's README does.
function open() {
  if (lib.getSignature(v.token, v.timestamp, v.nonce, v.encrypt) !== v.msgSignature) {
    throw new Error('signature mismatch');
  }
  const { message, id } = lib.decrypt(v.encodingAESKey, v.encrypt);
  if (id !== v.receiveId) {
    throw new Error('receiveid mismatch');
  }
  return message;
}

function timeCalls(n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) open();
  return Number(process.hrtime.bigint() - t0) / n;
}

if (open() !== v.expectMsg) {
  throw new Error('wrong plaintext');
}
// The first calls of a fresh process, before the JIT has warmed up: what a
// new Lambda container pays.
const firstNs = timeCalls(1000);
timeCalls(v.warmup);
const rounds = [];
for (let r = 0; r < v.rounds; r++) rounds.push(timeCalls(v.iterations));
const sorted = [...rounds].sort((a, b) => a - b);
process.stdout.write(JSON.stringify({
  version,
  node: process.version,
  nsPerOp: sorted[Math.floor(sorted.length / 2)],
  rounds,
  first1000NsPerOp: firstNs,
}) + '\n');
