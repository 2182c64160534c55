/**
 * The test-time check that every JSON answer the server gives matches the wire contract: the
 * schema the route table (@packyard/registry-api) declares for the route and status, or the error
 * envelope for an error. Test registries put it in front of their app; a test whose requests got
 * an answer off the contract fails in afterEach, naming the route, the status and the problems.
 */
import express, { type Express, type RequestHandler } from 'express';
import { ErrorEnvelope, matchRoute, OciErrorEnvelope, problemsOf, type Answer } from '@packyard/registry-api';
import { afterEach } from 'vitest';

/** Answers off the contract since the last afterEach. */
const violations: string[] = [];

/** The problems of one answer, as `METHOD /path STATUS: problem; ...`, or none. */
export function contractProblems(answer: {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body: string;
}): string[] {
  if (!/^application\/json\b/.test(answer.contentType)) return [];
  const route = matchRoute(answer.method, answer.path);
  const declared: Answer | undefined = route?.answers[answer.status];
  // Archives and pack files may be JSON (a pack's pack.json): the contract says they are bytes.
  if (declared !== undefined && declared.schema === undefined) return [];
  // /v2 answers its errors in the OCI envelope, on its routes and off them.
  const oci = answer.path === '/v2' || answer.path.startsWith('/v2/');
  const schema = declared?.schema ?? (answer.status >= 400 ? (oci ? OciErrorEnvelope : ErrorEnvelope) : undefined);
  const where = `${answer.method} ${answer.path} ${answer.status}`;
  if (schema === undefined)
    return [`${where}: the contract declares no such answer for ${route ? route.path : 'this path'}`];
  let body: unknown;
  try {
    body = JSON.parse(answer.body) as unknown;
  } catch {
    return [`${where}: the body is not JSON`];
  }
  const problems = problemsOf(schema, body);
  return problems.length === 0 ? [] : [`${where}: ${problems.join('; ')}`];
}

/** Middleware that checks each JSON answer as it is sent, recording what is off the contract. */
export function contractChecker(record: (problems: string[]) => void = (p) => violations.push(...p)): RequestHandler {
  return (req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body: unknown) => {
      // res.json hands res.send the serialised text; an object passes through res.send twice.
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        const problems = contractProblems({
          method: req.method,
          path: req.originalUrl.split('?', 1)[0] ?? '',
          status: res.statusCode,
          contentType: res.get('Content-Type') ?? '',
          body: body.toString(),
        });
        if (problems.length > 0) record(problems);
      }
      return send(body);
    };
    next();
  };
}

/** `app` behind the contract checker. */
export function checkedApp(app: Express): Express {
  const outer = express();
  // The outer app adds nothing to the answers: the app's own settings govern them.
  outer.disable('x-powered-by');
  outer.set('etag', false);
  outer.use(contractChecker());
  outer.use(app);
  return outer;
}

/** The violations recorded so far, cleared. */
export function takeContractViolations(): string[] {
  return violations.splice(0, violations.length);
}

afterEach(() => {
  const found = takeContractViolations();
  if (found.length > 0) {
    throw new Error(`answers off the API contract (@packyard/registry-api):\n${found.slice(0, 20).join('\n')}`);
  }
});
