// Builds the bootstrap sidecar before the tests, which run the shipped bundle.
module.exports = () => require("./agent/build.js").build();
