// GitLab's OpenID Connect provider block (OmniAuth openid_connect), one definition for every
// platform: gitlab.rb renders it as Ruby (aws, docker), the kubernetes platform writes it into
// the Secret the chart reads (global.appConfig.omniauth.providers). The client secret is
// whatever the platform passes: a Ruby expression reading it at reconfigure, or a Terraform
// reference filled in when the Secret is written.

export interface OidcProviderSettings {
  readonly label: string;
  readonly issuer: string;
  readonly clientId: string;
  /** GitLab's external URL; the callback lives under it. */
  readonly externalUrl: string;
}

export function openIdConnectProvider<Secret>(o: OidcProviderSettings, clientSecret: Secret) {
  return {
    name: "openid_connect",
    label: o.label,
    args: {
      name: "openid_connect",
      scope: ["openid", "profile", "email"],
      response_type: "code",
      issuer: o.issuer,
      discovery: true,
      client_auth_method: "query",
      uid_field: "sub",
      pkce: true,
      client_options: {
        identifier: o.clientId,
        secret: clientSecret,
        redirect_uri: `${o.externalUrl}/users/auth/openid_connect/callback`,
      },
    },
  };
}
