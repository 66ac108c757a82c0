import * as assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, renderWebviewHtml } from '../../../src/extension/panels/webviewHtml.ts';

describe('webview shell', () => {
  it('is locked down: default-src none, only the nonced script, only the webview origin', () => {
    const html = renderWebviewHtml({
      cspSource: 'https://x.vscode-cdn.net',
      scriptUri: 'https://x.vscode-cdn.net/m.js',
      styleUri: 'https://x.vscode-cdn.net/m.css',
      title: 'a "quoted" <title>',
      nonce: 'abc123',
    });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    assert.ok(csp.startsWith("default-src 'none'"));
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]![1]!, /nonce="abc123"/);
    assert.equal(scripts[0]![2], '', 'no inline script body');
    assert.match(html, /<title>a &quot;quoted&quot; &lt;title&gt;<\/title>/);
  });

  it('makes a fresh nonce per load', () => {
    const a = makeNonce();
    assert.match(a, /^[A-Za-z0-9]{16,}$/);
    assert.notEqual(a, makeNonce());
    assert.equal(contentSecurityPolicy('o', a).includes(`'nonce-${a}'`), true);
  });
});
