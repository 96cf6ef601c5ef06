// The PouchDB peer of the fieldsync benchmark (issue 14), run by benches/common/pouch.rs.
//
//   node peer.js serve DIR            an express-pouchdb server on 127.0.0.1, databases in DIR;
//                                     prints its port on the first line of stdout
//   node peer.js client URL N M DIR   device a pushes N visits (and a household) to URL, fresh
//                                     device b pulls them; then M new docs on a, pushed, pulled by
//                                     b. Prints the four times (ms) as one JSON line.
'use strict';
const path = require('path');
const PouchDB = require('pouchdb');

const [mode, ...args] = process.argv.slice(2);

function serve(dir) {
  const express = require('express');
  const app = express();
  const Db = PouchDB.defaults({ prefix: dir + path.sep });
  app.use('/', require('express-pouchdb')(Db, { mode: 'minimumForPouchDB', logPath: path.join(dir, 'log.txt') }));
  const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));
}

function visits(household, from, n) {
  const docs = [];
  for (let i = from; i < from + n; i++) {
    docs.push({
      _id: `visit-${household}-${i}`,
      type: 'visit',
      household_id: household,
      officer_id: 'bench-a',
      visited_at: '2026-11-20T09:30:00Z',
      notes: `visit ${i}: follow-up on the water point`,
      gps: [-1.2921 + (i % 1000) * 1e-5, 36.8219],
      answers: { crop: 'maize', household_size: String((i % 9) + 1) },
    });
  }
  return docs;
}

async function load(db, docs) {
  for (let i = 0; i < docs.length; i += 1000) await db.bulkDocs(docs.slice(i, i + 1000));
}

async function timed(f) {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function client(url, n, m, dir) {
  const a = new PouchDB(path.join(dir, 'a'));
  const b = new PouchDB(path.join(dir, 'b'));
  const remote = new PouchDB(url + '/bench');
  await load(a, [{ _id: 'household-1', type: 'household', name: 'Backlog farm' }, ...visits('household-1', 0, n)]);
  const push_ms = await timed(() => a.replicate.to(remote));
  const pull_ms = await timed(() => b.replicate.from(remote));
  await load(a, [{ _id: 'household-2', type: 'household', name: 'Incremental farm' }, ...visits('household-2', 0, m - 1)]);
  const inc_push_ms = await timed(() => a.replicate.to(remote));
  const inc_pull_ms = await timed(() => b.replicate.from(remote));
  const [ia, ib] = [await a.info(), await b.info()];
  if (ia.doc_count !== n + m + 1 || ib.doc_count !== n + m + 1) {
    throw new Error(`docs: a ${ia.doc_count}, b ${ib.doc_count}, expected ${n + m + 1}`);
  }
  console.log(JSON.stringify({ push_ms, pull_ms, inc_push_ms, inc_pull_ms }));
}

(async () => {
  if (mode === 'serve') serve(args[0]);
  else if (mode === 'client') await client(args[0], Number(args[1]), Number(args[2]), args[3]);
  else throw new Error(`unknown mode ${mode}`);
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
