// One push of a configuration text to a running media server: validate (POST /config, which
// saves nothing), then save (PUT /config). The server applies a saved config without a
// restart. The outcome is the StreamerConfigSaved condition's status, reason and message.
import type { Dispatcher } from 'undici';
import { API_PORT } from '../k8s/ports.ts';
import { classifySaveResult, createMediaClient, EditAuthFormatError, mediaBaseUrl, type SaveResult } from '../media/index.ts';

/** Transport knobs of the media client; its defaults when omitted (see MediaClientOptions). */
export type MediaSettings = { dispatcher?: Dispatcher; timeoutMs?: number; retries?: number; retryDelayMs?: number };

export type PushResult = Omit<SaveResult, 'reason'> & { reason: SaveResult['reason'] | 'EditAuthInvalid' };

/**
 * Validates then saves `text` on the server at `podIP`:API_PORT with `editAuth`.
 * Every failure of the exchange is a result, not a throw (see classifySaveResult); a text the
 * server rejects is never saved (400 → False/ConfigInvalid with the server's line and column).
 * @throws RangeError only for an empty pod IP (a caller bug; see mediaBaseUrl).
 */
export async function saveConfig({
  text,
  podIP,
  editAuth,
  media = {},
}: {
  text: string;
  podIP: string;
  editAuth: string;
  media?: MediaSettings;
}): Promise<PushResult> {
  let client;
  try {
    client = createMediaClient({ ...media, baseUrl: mediaBaseUrl({ podIP, port: API_PORT }), auth: editAuth });
  } catch (error) {
    if (!(error instanceof EditAuthFormatError)) throw error;
    return { status: 'Unknown', reason: 'EditAuthInvalid', message: 'The edit_auth credentials are not "login:password"' };
  }
  try {
    await client.validateConfig(text);
    await client.saveConfig(text);
    return classifySaveResult();
  } catch (error) {
    return classifySaveResult(error);
  }
}
