// functions-framework entry point: `functions-framework --target=probe-status`.
import { http } from '@google-cloud/functions-framework';
import { lazyHandler } from '../../lib/runtime/register.ts';
import { definition, NAME } from './definition.ts';

export const handler = lazyHandler(definition);
http(NAME, handler);
