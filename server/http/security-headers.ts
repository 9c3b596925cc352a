// Security headers on every HTTP response (helmet): a Content Security Policy without inline
// script or style, no framing, no MIME sniffing, no referrer, and HSTS when the server itself
// speaks TLS. The dashboard keeps working under it: its script and stylesheet are files of the
// build, Lit adopts constructable stylesheets and sets dynamic styles through the CSSOM
// (`styleMap`), Chart.js sizes its canvases through the CSSOM, and Socket.IO connects to the same
// origin — none of which style-src or script-src governs (CSP Level 3 §6.1.3, §6.1.14).
import helmet from 'helmet';
import type { RequestHandler } from 'express';

/** HSTS lifetime: one year, as RFC 6797 §11.2 and common preload lists expect. */
export const HSTS_MAX_AGE_S = 365 * 24 * 3600;

export function contentSecurityPolicy(https: boolean): Record<string, string[] | null> {
  return {
    defaultSrc: ["'self'"],
    // No inline or eval'd script anywhere: an injected <script> or on*= attribute does not run.
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    // Stylesheets from files only: no <style> element and no style="" attribute applies.
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    // 'self' also allows ws:// and wss:// to this same host and port (CSP Level 3 §6.7.2.8):
    // Socket.IO and MQTT over WebSocket need nothing more.
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    // Clickjacking (an alarm acknowledged through a hidden frame): never framed, by anyone.
    frameAncestors: ["'none'"],
    // Under TLS a stray http:// sub-resource is fetched over https; without TLS it would break the page.
    upgradeInsecureRequests: https ? [] : null,
  };
}

export function securityHeaders(opts: { https: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(opts.https) },
    // RFC 6797 §7.2: sent over a secure transport only; a plain-HTTP server would mislead.
    strictTransportSecurity: opts.https ? { maxAge: HSTS_MAX_AGE_S, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    // For browsers without frame-ancestors (RFC 7034).
    xFrameOptions: { action: 'deny' },
    xContentTypeOptions: true,
  });
}
