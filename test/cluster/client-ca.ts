// Stands for a cluster's client certificate authority (what kubeadm's ca.crt/ca.key
// are to a real cluster): the API server trusts it with --client-ca-file, and tests
// issue client certificates from it the way minikube and kubeadm hand them to users
// (the certificate's CN is the user name, each O a group). Made with the openssl CLI;
// ECDSA P-256 keys, valid for two days.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type ClientCa = { certFile: string; keyFile: string };
export type ClientCertificate = { certFile: string; keyFile: string };

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function createClientCa(dir: string): Promise<ClientCa> {
  await mkdir(dir, { recursive: true });
  const certFile = join(dir, 'client-ca.crt');
  const keyFile = join(dir, 'client-ca.key');
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=streamer-operator-test-client-ca']);
  return { certFile, keyFile };
}

/** A client certificate for `user` in `groups`, signed by `ca`, written as `<dir>/<name>.crt` and `.key`. */
export async function issueClientCertificate(
  ca: ClientCa,
  { dir, name, user, groups = [] }: { dir: string; name: string; user: string; groups?: string[] },
): Promise<ClientCertificate> {
  await mkdir(dir, { recursive: true });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const subject = `${groups.map((g) => `/O=${g}`).join('')}/CN=${user}`;
  await run('openssl', ['req', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', subject]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(Date.now()), '-days', '1', '-out', certFile]);
  return { certFile, keyFile };
}
