// Builds the bootstrap sidecar before the tests, which run the shipped bundle.
module.exports = () => require("./bootstrap/build.js").build();
