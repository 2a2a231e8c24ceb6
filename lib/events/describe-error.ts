// One short line about an error, safe for logs and for the Broker's error data. Messages can
// carry more than they should: client-node's ApiException message embeds the whole response
// body and headers, and V8's JSON errors quote their input. So this keeps to known fields and
// caps the length.
import { isClientNodeApiException } from './errors.ts';

const MAX_LENGTH = 300;

export type ErrorSummary = { code: string; message: string };

/** `{ code, message }` of any thrown value; code is the error's own `code` or its name. */
export function describeError(error: unknown): ErrorSummary {
  if (isClientNodeApiException(error)) {
    return { code: `HTTP_${error.code}`, message: cap(`Kubernetes API answered ${error.code}${statusText(error.body)}`) };
  }
  if (error instanceof SyntaxError) {
    // V8 quotes the offending input in JSON.parse messages.
    return { code: 'SyntaxError', message: 'invalid JSON' };
  }
  if (error instanceof Error) {
    const { code } = error as { code?: unknown };
    return { code: typeof code === 'string' ? code : error.name, message: cap(error.message) };
  }
  return { code: 'NON_ERROR', message: cap(`non-error thrown: ${typeof error}`) };
}

/** `: <reason>: <message>` from a metav1.Status body, or nothing. */
function statusText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { reason, message } = body as { reason?: unknown; message?: unknown };
  const parts = [reason, message].filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.length > 0 ? `: ${parts.join(': ')}` : '';
}

function cap(text: string): string {
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
