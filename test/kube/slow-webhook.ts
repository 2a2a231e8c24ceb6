// A real validating admission webhook on loopback that answers "allowed" after a delay,
// for objects labelled `hold: "yes"`. The API server keeps the request that is being
// admitted, and so its API Priority and Fairness seat, until the webhook answers: a
// held request is how a test fills a priority level on purpose (client.test.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kubectl } from '../cluster/kubectl.ts';

const run = promisify(execFile);

export const HOLD_LABEL = { hold: 'yes' } as const;

export type SlowWebhook = { calls: number; stop(): Promise<void> };

/** Registers the webhook for CREATE of ConfigMaps in `namespace`; each call waits `delayMs`. */
export async function startSlowWebhook({ kubectl, namespace, name, delayMs }: { kubectl: Kubectl; namespace: string; name: string; delayMs: number }): Promise<SlowWebhook> {
  const dir = await mkdtemp(join(tmpdir(), 'slow-webhook-'));
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ]);
  const cert = await readFile(join(dir, 'tls.crt'), 'utf8');
  const state = { calls: 0 };
  const server = createServer({ cert, key: await readFile(join(dir, 'tls.key'), 'utf8') }, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      state.calls++;
      const review = JSON.parse(body) as { request: { uid: string } };
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } }));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const configuration = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: [{
      name: `${name}.test.streamer-operator`,
      clientConfig: { url, caBundle: Buffer.from(cert).toString('base64') },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Namespaced' }],
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      objectSelector: { matchLabels: HOLD_LABEL },
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      failurePolicy: 'Fail',
      timeoutSeconds: Math.min(30, Math.ceil(delayMs / 1000) + 5),
    }],
  };
  await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(configuration) });
  return {
    get calls() {
      return state.calls;
    },
    async stop() {
      await kubectl(['delete', 'validatingwebhookconfiguration', name, '--ignore-not-found']);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
