// Builders may leave optional fields `undefined`; they vanish when the object is sent as JSON.
// Golden comparisons therefore compare the JSON form, as the API server would see it.
export function plain<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** Standard labels and owner reference of a child of the `rich` fixture in namespace `media`. */
export const richChildMeta = (name: string) => ({
  name,
  namespace: 'media',
  labels: {
    'app.kubernetes.io/name': 'flussonic',
    'app.kubernetes.io/instance': 'rich',
    'app.kubernetes.io/component': 'streamer',
    'app.kubernetes.io/part-of': 'flussonic-media-server',
    'app.kubernetes.io/managed-by': 'streamer-operator',
  },
  ownerReferences: [
    {
      apiVersion: 'media.flussonic.com/v1alpha1',
      kind: 'Streamer',
      name: 'rich',
      uid: '6f1c2b9e-4a57-4d2f-9a43-2d7c1e0b5a11',
      controller: true,
      blockOwnerDeletion: true,
    },
  ],
});
