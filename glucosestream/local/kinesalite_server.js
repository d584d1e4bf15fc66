// Starts kinesalite (the Kinesis API on LevelDB) bound to one address, for the local stack.
// Usage: node kinesalite_server.js --host 127.0.0.1 --port 4567 --path DIR
'use strict';
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
