#!/usr/bin/env node
// Runs dynalite, the local DynamoDB engine, so that a client that goes away
// mid-request does not take it down (issue #12).
//
// dynalite 4.0.0 rethrows every request error (index.js: `req.on('error',
// function (err) { throw err })`), and Node emits one — ECONNRESET
// "aborted" — whenever a client closes its connection before its answer:
// the fault proxy does that on purpose, a Lambda timeout or a killed
// function does it by accident. Thrown from an event handler it ends the
// process, and with it the whole local stack. Here the same server runs
// with that listener swapped for one that counts and logs: the request is
// dropped (its client is gone) and the engine keeps serving.
//
// Usage: node infra/dynalite.js --host 127.0.0.1 --port 0 [--path DIR]
// Prints "Dynalite listening at: http://HOST:PORT" (the actual port, when
// 0 asked for a free one) once it accepts connections: the readiness line
// internal/local/dynalite waits for.
'use strict'

const { parseArgs } = require('node:util')
const dynalite = require('dynalite')

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    path: { type: 'string' }, // LevelDB directory; in memory when absent
  },
})

// Tables are ACTIVE at once: nobody waits for a local CreateTable.
const server = dynalite({ path: args.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })

const [handle] = server.listeners('request')
server.removeAllListeners('request')
server.on('request', (req, res) => {
  handle(req, res)
  // handle has added its throwing 'error' listener synchronously; the
  // request has no other.
  req.removeAllListeners('error')
  req.on('error', aborted)
  // Answering a client that has gone away can fail too: nothing to do.
  res.on('error', aborted)
})

// Every abort is logged at first; under the fault proxy there are many,
// so after that one line per hundred.
let aborts = 0
function aborted (err) {
  aborts++
  if (aborts <= 3 || aborts % 100 === 0) {
    console.error('dynalite.js: %d request(s) dropped by their clients so far (latest: %s %s); still serving',
      aborts, err.code || '', err.message)
  }
}

server.listen(Number(args.port), args.host, () => {
  const { port } = server.address()
  console.log('Dynalite listening at: http://%s:%d', args.host, port)
})
