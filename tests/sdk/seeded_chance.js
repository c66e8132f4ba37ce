// Loaded with mocha --require before the 2.x SDK's own suite.  The suite
// names its users and entities with chance.word() from unseeded
// generators, so each run names different things; one run in a few hundred
// draws "me", a username the API reserves (usergrid-api.md section 2), and
// fails for a reason no server should change.  Seeding every generator the
// suite makes, in the order it makes them, gives every run the same names.
'use strict';
const where = require.resolve('chance', {paths: [process.cwd()]});
const Chance = require(where).Chance;
let made = 0;

function Seeded(...seed) {
    return new Chance(...(seed.length ? seed : ['ugstore-sdk2-' + made++]));
}
Seeded.prototype = Chance.prototype;
Seeded.Chance = Seeded;
require.cache[where].exports = Seeded;
