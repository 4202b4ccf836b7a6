#!/usr/bin/env node
// A throwaway SMTP server for tests: accepts mail on 127.0.0.1 and writes each message as NNNN.eml with a
// NNNN.json sidecar (envelope and authenticated user) into a folder. Never use it as a real mail server.
//
//   node scripts/smtp-sink.mjs <port> <folder> [--auth user:pass] [--fail-rcpt] [--refuse local=code]... [--silent-after-data]
//
// Port 0 picks a free port. Prints "listening <port>" once it accepts connections.
//   --auth user:pass  require AUTH (PLAIN or LOGIN, over plain text) with these credentials
//   --fail-rcpt       answer 550 to every RCPT TO
//   --refuse local=code  answer code (e.g. 550 or 450) to RCPT TO for any address whose local part is local
//   --silent-after-data  keep the message but never answer the final dot, as a connection lost at that
//                     moment looks to the client (it cannot tell whether the message was taken)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    auth: { type: 'string' },
    'fail-rcpt': { type: 'boolean', default: false },
    refuse: { type: 'string', multiple: true, default: [] },
    'silent-after-data': { type: 'boolean', default: false },
  },
});
if (positionals.length !== 2 || !/^\d+$/.test(positionals[0])) {
  console.error('usage: smtp-sink.mjs <port> <folder> [--auth user:pass] [--fail-rcpt] [--refuse local=code]... [--silent-after-data]');
  process.exit(2);
}
const port = Number(positionals[0]);
const folder = positionals[1];
mkdirSync(folder, { recursive: true });

let credentials = null;
if (values.auth !== undefined) {
  const colon = values.auth.indexOf(':');
  if (colon < 1) {
    console.error('--auth needs user:pass');
    process.exit(2);
  }
  credentials = { user: values.auth.slice(0, colon), pass: values.auth.slice(colon + 1) };
}

const refused = new Map(values.refuse.map((r) => [r.slice(0, r.indexOf('=')), Number(r.slice(r.indexOf('=') + 1))]));

let count = 0;

// Written under a temporary name and renamed, so a reader polling the folder never sees half a file.
function writeAtomically(path, data) {
  writeFileSync(path + '.tmp', data);
  renameSync(path + '.tmp', path);
}

const server = new SMTPServer({
  secure: false,
  hideSTARTTLS: true,
  disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
  authOptional: !credentials,
  allowInsecureAuth: true,
  disableReverseLookup: true,
  logger: false,
  onAuth(auth, session, callback) {
    if (credentials && auth.username === credentials.user && auth.password === credentials.pass) {
      callback(null, { user: auth.username });
    } else {
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    }
  },
  onRcptTo(address, session, callback) {
    const local = address.address.slice(0, address.address.lastIndexOf('@'));
    if (values['fail-rcpt']) {
      callback(Object.assign(new Error(`<${address.address}>: Recipient address rejected`), { responseCode: 550 }));
    } else if (refused.has(local)) {
      const code = refused.get(local);
      callback(Object.assign(new Error(`<${address.address}>: ${code >= 500 ? 'No such user' : 'Mailbox busy, try again later'}`), { responseCode: code }));
    } else {
      callback();
    }
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('error', callback);
    stream.on('end', () => {
      const name = String(++count).padStart(4, '0');
      writeAtomically(join(folder, `${name}.eml`), Buffer.concat(chunks));
      writeAtomically(join(folder, `${name}.json`), JSON.stringify({
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        to: session.envelope.rcptTo.map((r) => r.address),
        user: session.user ?? null,
      }, null, 2));
      if (!values['silent-after-data']) {
        callback(null, `Message ${name} accepted`);
      }
    });
  },
});

server.on('error', (error) => console.error(`smtp-sink: ${error.message}`));
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.server.address().port}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
