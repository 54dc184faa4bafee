// The floor the app is measured against: node + cdktf + one empty stack, synthesized.
const { App, TerraformStack } = require("cdktf");

const app = new App({ outdir: process.env.CDKTF_OUTDIR || "cdktf.out" });
new TerraformStack(app, "floor");
app.synth();
