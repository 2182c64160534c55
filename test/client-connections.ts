/**
 * Setup of every e2e test file: the test process's own HTTP client (Node's fetch) drops a
 * kept-alive connection after one idle second.
 *
 * The registry processes of these tests live for the whole run and close a connection idle for
 * 65 s (server.keepAliveTimeout); undici keeps one for the server's advertised 65 s less its 2 s
 * threshold. A test that fetches from such a server again after a minute of other work (packctl
 * runs, under load) can send its request on a connection the server is closing at that moment,
 * its idle timer having fired late: "SocketError: other side closed" (seen once, in
 * registry-cli.test.ts, "pushes a profile to its tenant", after ~60 s without a fetch). Idle for
 * one second at most, a connection is never the server's to close first.
 */
import { Agent, setGlobalDispatcher } from 'undici';

setGlobalDispatcher(new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 }));
