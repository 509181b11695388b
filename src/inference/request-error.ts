// The 400 of the OpenAI routes: an invalid_request InferdError that names the field at fault,
// which the error handler puts in the OpenAI error object's `param`.
import { InferdError } from '../errors.js';

export function badRequest(message: string, param?: string): InferdError {
  return new InferdError('invalid_request', `invalid request: ${message}`, param === undefined ? {} : { detail: { param } });
}
