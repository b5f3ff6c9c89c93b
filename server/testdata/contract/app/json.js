// CommonJS with require of a JSON file.
const data = require("./data.json");

exports.onMessage = function (message) {
  return data.greetings[message] || data.fallback;
};
