#!/usr/bin/env node
// Verify a keyed Sigstore bundle offline with Sigstore's own verifier (@sigstore/verify):
// an empty trusted root (no transparency logs, no CAs, no timestamp authorities), all
// thresholds 0, and the given public key registered under the bundle's hint.
//
//   node sigstore-verify.js NODE_MODULES BUNDLE ARTIFACT|- PUBLIC_KEY.pem
//
// Without transparency-log entries the library checks the signature over the artifact but
// not the recorded message digest, so that is compared here too. Exit 0: verified.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const [modules, bundlePath, artifactPath, keyPath] = process.argv.slice(2);
const load = (m) => require(require.resolve(m, { paths: [modules] }));
const { bundleFromJSON } = load('@sigstore/bundle');
const { toSignedEntity, toTrustMaterial, Verifier } = load('@sigstore/verify');
try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const artifact = artifactPath === '-' ? undefined : fs.readFileSync(artifactPath);
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey') throw new Error('not a keyed bundle');
  const spki = crypto.createPublicKey(fs.readFileSync(keyPath)).export({ type: 'spki', format: 'der' });
  const hint = crypto.createHash('sha256').update(spki).digest('base64');
  if (material.publicKey.hint !== hint) throw new Error(`hint ${material.publicKey.hint} is not this key's ${hint}`);
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
  };
  const trust = toTrustMaterial(root, { [hint]: { rawBytes: spki } });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  if (bundle.content.$case === 'messageSignature') {
    const md = bundle.content.messageSignature.messageDigest;
    if (!artifact) throw new Error('a message signature needs the artifact');
    const sha = crypto.createHash('sha256').update(artifact).digest();
    if (!sha.equals(Buffer.from(md.digest))) throw new Error('the message digest is not the artifact\'s');
  }
  verifier.verify(toSignedEntity(bundle, artifact));
  if (bundle.content.$case === 'dsseEnvelope') {
    process.stdout.write(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
  } else {
    console.log('verified');
  }
} catch (e) {
  console.error(`not verified: ${e.name}${e.code ? ' [' + e.code + ']' : ''}: ${e.message}`);
  process.exit(1);
}
