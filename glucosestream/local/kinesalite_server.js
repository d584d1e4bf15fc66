// Starts kinesalite (the Kinesis API on LevelDB) bound to one address, for the local stack.
// Usage: node kinesalite_server.js --host 127.0.0.1 --port 4567 --path DIR
'use strict';
const crypto = require('crypto');

// kinesalite predates ChildShards (2020): at the end of a closed (split or merged) shard its
// GetRecords answers no NextShardIterator and no ChildShards. The KCL 2.3+ needs ChildShards
// there to create the children's leases; without them it retries the parent for ever and never
// reads the children. Its action modules are loaded by path, so this wrapper, put in the module
// cache before kinesalite loads, answers them as Kinesis does.
const kinesaliteDb = require('kinesalite/db');
const getRecordsPath = require.resolve('kinesalite/actions/getRecords');
const kinesaliteGetRecords = require(getRecordsPath);

function iteratorPosition(shardIterator) {
  const buffer = Buffer.from(shardIterator, 'base64');
  const decipher = crypto.createDecipheriv(
    'aes-256-cbc', kinesaliteDb.ITERATOR_PWD_KEY, kinesaliteDb.ITERATOR_PWD_IV);
  const pieces = Buffer.concat([decipher.update(buffer.slice(8)), decipher.final()])
    .toString('utf8').split('/');
  return { streamName: pieces[1], shardId: pieces[2] };
}

function childShardsOf(shards, shardId) {
  return shards
    .filter((shard) => shard.ParentShardId === shardId || shard.AdjacentParentShardId === shardId)
    .map((shard) => ({
      ShardId: shard.ShardId,
      ParentShards: [shard.ParentShardId, shard.AdjacentParentShardId].filter(Boolean),
      HashKeyRange: shard.HashKeyRange,
    }));
}

function getRecordsWithChildShards(store, data, cb) {
  kinesaliteGetRecords(store, data, (error, result) => {
    if (error || result.NextShardIterator !== undefined) return cb(error, result);
    const { streamName, shardId } = iteratorPosition(data.ShardIterator);
    store.getStream(streamName, (streamError, stream) => {
      if (streamError) return cb(streamError);
      result.ChildShards = childShardsOf(stream.Shards, shardId);
      cb(null, result);
    });
  });
}

require.cache[getRecordsPath].exports = getRecordsWithChildShards;

const kinesalite = require('kinesalite');

function option(name, fallback) {
  const index = process.argv.indexOf('--' + name);
  return index > 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const host = option('host', '127.0.0.1');
const port = Number(option('port', '4567'));
const path = option('path', undefined);

// Stream state changes take 500 ms by default in kinesalite; the stack waits for ACTIVE anyway.
const server = kinesalite({
  path: path,
  createStreamMs: 50,
  deleteStreamMs: 50,
  updateStreamMs: 50,
  shardLimit: 64,
});

// kinesalite rethrows a request stream's error (index.js: `req.on('error', err => { throw err })`),
// so one client that disconnects mid-request — a worker killed while it sends, which the fault
// tests do on purpose — crashed the whole local Kinesis ("Error: aborted", ECONNRESET). A client
// gone mid-request is routine for a server: that request alone is dropped.
for (const handler of server.listeners('request')) {
  server.removeListener('request', handler);
  server.on('request', (req, res) => {
    const on = req.on;
    req.on = function (event, listener) {
      if (event !== 'error') return on.call(this, event, listener);
      return on.call(this, event, (error) => {
        console.error(`kinesalite: request dropped, the client went away (${error.code || error.message})`);
        res.destroy();
      });
    };
    handler(req, res);
  });
}

server.on('error', (error) => {
  console.error(`kinesalite: ${error.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  console.log(`kinesalite listening on http://${host}:${port}`);
});

function stop(signal) {
  console.log(`kinesalite: ${signal}, closing`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
