// The instance settings GitLab's Terraform provider manages (Admin → Settings): a change made
// in the UI shows as drift in the next plan. What the provider cannot set (password sign-in
// for SSO users, the break-glass check) stays in the bootstrap script (userdata/application-settings.ts).
import { ApplicationSettings } from "@cdktf/provider-gitlab/lib/application-settings";
import { Construct } from "constructs";

export type Visibility = "private" | "internal" | "public";

export interface GitLabInstanceSettingsProps {
  /** The public sign-up form. */
  readonly signupEnabled: boolean;
  /** Visibility of new projects. */
  readonly defaultProjectVisibility: Visibility;
  /** Visibility of new groups. */
  readonly defaultGroupVisibility: Visibility;
  /** Every user must set up two-factor authentication. */
  readonly requireTwoFactor: boolean;
  /** Hours a user may skip setting up two-factor authentication once it is required. */
  readonly twoFactorGracePeriodHours: number;
}

/** gitlab_application_settings with the reviewed settings; the others stay as GitLab has them. */
export class GitLabInstanceSettings extends Construct {
  readonly settings: ApplicationSettings;

  constructor(scope: Construct, id: string, props: GitLabInstanceSettingsProps) {
    super(scope, id);
    this.settings = new ApplicationSettings(this, "settings", {
      signupEnabled: props.signupEnabled,
      defaultProjectVisibility: props.defaultProjectVisibility,
      defaultGroupVisibility: props.defaultGroupVisibility,
      requireTwoFactorAuthentication: props.requireTwoFactor,
      // The provider requires the grace period beside the switch.
      twoFactorGracePeriod: props.twoFactorGracePeriodHours,
    });
  }
}
