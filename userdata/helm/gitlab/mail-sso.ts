// Outgoing mail and OpenID Connect single sign-on, as on the other platforms: the provider
// block itself (with the client secret) lives in a Secret; the values name it.
import type { HelmValues } from "../values";
import type { ChartMail, ChartSso } from "./model";

function smtp(m: NonNullable<ChartMail["smtp"]>): HelmValues {
  return {
    enabled: true,
    address: m.host,
    port: m.port,
    user_name: m.username,
    password: { secret: m.password.secret, key: m.password.key },
    domain: m.domain,
    authentication: "login",
    starttls_auto: m.security === "starttls",
    tls: m.security === "tls",
  };
}

export function mailValues(m: ChartMail): HelmValues {
  return { global: { email: { from: m.emailFrom }, ...(m.smtp ? { smtp: smtp(m.smtp) } : {}) } };
}

/**
 * The break-glass rule as far as the chart can say it: SSO users are let in (or wait for approval),
 * nobody signs up with a password, and existing accounts are linked by e-mail only when
 * config asks (a linked account loses its password). Turning passwords off for SSO users is
 * an application setting outside the chart's reach.
 */
export function ssoValues(s: ChartSso): HelmValues {
  return {
    global: {
      appConfig: {
        omniauth: {
          enabled: true,
          allowSingleSignOn: ["openid_connect"],
          blockAutoCreatedUsers: s.blockAutoCreatedUsers,
          autoLinkUser: s.autoLinkUsers ? ["openid_connect"] : [],
          ...(s.autoSignIn ? { autoSignInWithProvider: "openid_connect" } : {}),
          providers: [{ secret: s.provider.secret, key: s.provider.key }],
        },
        initialDefaults: { signupEnabled: false },
      },
    },
  };
}
