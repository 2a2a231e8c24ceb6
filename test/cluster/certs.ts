// Stands in for kubeadm's certificates phase: a cluster CA and the API server's serving
// certificate, made with the openssl CLI. kube-apiserver's own self-signed certificate covers only
// its advertise address and first Service IP; this one also carries 127.0.0.1, the address of the
// host-side relay a user's kubectl dials.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args[0]} failed (is openssl installed?): ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

export type ServingCertificate = { caPem: string; certFile: string; keyFile: string; caFile: string };

/** Writes ca.crt, apiserver.crt and apiserver.key into `dir` (valid two days, never reused). */
export async function makeServingCertificate(dir: string, { ips, dnsNames }: { ips: string[]; dnsNames: string[] }): Promise<ServingCertificate> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=streamer-operator-test-ca'], dir);
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver'], dir);
  const san = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((name) => `DNS:${name}`)].join(',');
  await writeFile(join(dir, 'apiserver.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  await openssl(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'apiserver.crt', '-days', '2', '-extfile', 'apiserver.ext'], dir);
  return {
    caPem: await readFile(join(dir, 'ca.crt'), 'utf8'),
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'apiserver.crt'),
    keyFile: join(dir, 'apiserver.key'),
  };
}
