// The baseline of BenchmarkDecryptVsWeComCrypto: @wecom/crypto, WeCom's own
// Node library, verifying and decrypting the benchmark's vector.
//
// Usage: node wecom-crypto-bench.js DIR
// DIR is where to resolve @wecom/crypto from (a folder with node_modules),
// or the package's own folder. Exits 3 when the package cannot be found, so
// the benchmark skips with a message.
//
// It reads the vector as one line of JSON, checks the plaintext, times the
// first 1,000 calls, warms up and answers one line of JSON. Then each line
// "N" it reads times N calls and answers ns per call, until stdin closes:
// the benchmark alternates these rounds with its own.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const from = process.argv[2];
let lib;
let version;
try {
  const own = path.join(from, 'package.json');
  const main = fs.existsSync(own) && JSON.parse(fs.readFileSync(own, 'utf8')).name === '@wecom/crypto'
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

let v;

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

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (v === undefined) {
    v = JSON.parse(line);
    if (open() !== v.expectMsg) {
      throw new Error('wrong plaintext');
    }
    // The first calls of a fresh process, before the JIT has warmed up:
    // what a new Lambda container pays.
    const first1000NsPerOp = timeCalls(1000);
    timeCalls(v.warmup);
    process.stdout.write(JSON.stringify({ version, node: process.version, first1000NsPerOp }) + '\n');
    return;
  }
  process.stdout.write(timeCalls(Number(line)) + '\n');
});
