import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiEndpoint, podDnsName } from '../../lib/k8s/endpoints.ts';
import { childNames, MANAGED_BY_LABEL, ownerReference, podTemplateLabels, selectorLabels, standardLabels } from '../../lib/k8s/meta.ts';
import { payloadPort } from '../../lib/k8s/ports.ts';
import { everyField, quickstart } from '../fixtures/streamers.ts';

// ---

const names = suite('childNames');

names('follows the spec\'s "Created resources" list', () => {
  assert.equal(childNames(quickstart), {
    statefulSet: 'simple-streamer',
    pod: 'simple-streamer-0',
    headlessService: 'simple-headless',
    configMap: 'simple-config',
    licenseStorageSecret: 'simple-license-storage',
    serviceAccount: 'simple-sa',
    role: 'simple-role',
    roleBinding: 'simple-rb',
  });
});

names.run();

// ---

const labels = suite('labels');

labels('standard labels name the instance and the operator', () => {
  assert.equal(standardLabels(quickstart), {
    'app.kubernetes.io/name': 'flussonic',
    'app.kubernetes.io/instance': 'simple',
    'app.kubernetes.io/component': 'streamer',
    'app.kubernetes.io/part-of': 'flussonic-media-server',
    'app.kubernetes.io/managed-by': 'streamer-operator',
  });
  assert.is(standardLabels(quickstart)[MANAGED_BY_LABEL.key], MANAGED_BY_LABEL.value);
});

labels('selectorLabels from the spec replace the default selector and win in the template', () => {
  assert.equal(selectorLabels(everyField), { app: 'rich-streamer' });
  assert.is(podTemplateLabels(everyField)['app'], 'rich-streamer');
  assert.equal(selectorLabels(quickstart), { 'app.kubernetes.io/name': 'flussonic', 'app.kubernetes.io/instance': 'simple' });
});

labels.run();

// ---

const owner = suite('ownerReference');

owner('is a blocking controller reference to the Streamer', () => {
  assert.equal(ownerReference(quickstart), {
    apiVersion: 'media.flussonic.com/v1alpha1',
    kind: 'Streamer',
    name: 'simple',
    uid: quickstart.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  });
});

owner.run();

// ---

const endpoints = suite('endpoints');

endpoints('the API endpoint uses the Pod\'s headless DNS name and port 81', () => {
  assert.is(podDnsName(quickstart), 'simple-streamer-0.simple-headless.media.svc.cluster.local');
  assert.is(apiEndpoint(quickstart), 'http://simple-streamer-0.simple-headless.media.svc.cluster.local:81/streamer/api/v3');
});

endpoints('the payload port follows hostPort', () => {
  assert.is(payloadPort(quickstart.spec), 80);
  assert.is(payloadPort(everyField.spec), 8080);
});

endpoints.run();
