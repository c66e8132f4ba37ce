// The published Usergrid Node.js SDK 0.10.11, unmodified, against ugstore:
// node sdk010.js BASE_URL ORG APP.  Exits 0 when every step behaved.
'use strict';
const usergrid = require('usergrid');
const assert = require('assert');
const [base, org, app] = process.argv.slice(2);
const client = new usergrid.client({ orgName: org, appName: app, URI: base, logging: false,
                                    authType: usergrid.AUTH_APP_USER });

function call(name, fn) {
  return new Promise((resolve, reject) => {
    fn((err, ...rest) => {
      if (err) reject(new Error(name + ' failed: ' + JSON.stringify(rest[0]).slice(0, 300)));
      else resolve(rest);
    });
  });
}

(async () => {
  const [dog] = await call('createEntity', cb => client.createEntity({ type: 'dogs', name: 'fido', color: 'brown' }, cb));
  assert.ok(/^[0-9a-f-]{36}$/.test(dog.get('uuid')), 'a uuid');
  const [got] = await call('getEntity', cb => client.getEntity({ type: 'dogs', name: 'fido' }, cb));
  assert.strictEqual(got.get('color'), 'brown');
  dog.set('color', 'black');
  await call('save', cb => dog.save(cb));
  await call('fetch', cb => dog.fetch(cb));
  assert.strictEqual(dog.get('color'), 'black');

  const [coll] = await call('createCollection', cb => client.createCollection({ type: 'dogs', qs: { ql: 'order by name' } }, cb));
  await call('addEntity', cb => coll.addEntity({ name: 'rex' }, cb));
  const names = [];
  coll.resetEntityPointer();
  while (coll.hasNextEntity()) names.push(coll.getNextEntity().get('name'));
  assert.deepStrictEqual(names, ['fido', 'rex']);

  // paging with cursors
  for (let i = 0; i < 12; i++) await call('create', cb => client.createEntity({ type: 'pups', name: 'p' + i }, cb));
  const [pups] = await call('pups', cb => client.createCollection({ type: 'pups', qs: { limit: 5 } }, cb));
  assert.ok(pups.hasNextPage(), 'a full page has a next page');
  await call('getNextPage', cb => pups.getNextPage(cb));
  let n = 0;
  while (pups.hasNextEntity()) { pups.getNextEntity(); n++; }
  assert.strictEqual(n, 5);

  const [user] = await call('signup', cb => client.signup('marty', 'mysecret', 'marty@example.org', 'Marty', cb));
  assert.strictEqual(user.get('username'), 'marty');
  // login: a wrong password is refused, the right one gives a token that
  // /users/me answers for; logout forgets it, revoketokens kills it
  let refused = false;
  try { await call('login (wrong password)', cb => client.login('marty', 'not-his-password', cb)); } catch (e) { refused = true; }
  assert.ok(refused, 'a wrong password is refused');
  assert.ok(!client.isLoggedIn(), 'no token after a refused login');
  const [login, me0] = await call('login', cb => client.login('marty', 'mysecret', cb));
  assert.ok(login.access_token && login.expires_in > 0, 'a token');
  assert.strictEqual(me0.get('username'), 'marty');
  assert.ok(client.isLoggedIn(), 'logged in');
  const [, me] = await call('getLoggedInUser', cb => client.getLoggedInUser((err, data, u) => cb(err, data, u)));
  assert.strictEqual(me.get('username'), 'marty');
  const token = client.getToken();
  client.logout();
  assert.ok(!client.isLoggedIn(), 'logged out');
  let noUser = false;
  await new Promise(resolve => client.getLoggedInUser(err => { noUser = !!err; resolve(); }));
  assert.ok(noUser, 'no user after logout');
  client.setToken(token);
  await call('revoketokens', cb => client.request({ method: 'PUT', endpoint: 'users/me/revoketokens' }, cb));
  let revoked = false;
  await new Promise(resolve => client.getLoggedInUser(err => { revoked = !!err; resolve(); }));
  assert.ok(revoked, 'a revoked token gets no user');
  client.logout();

  const [group] = await call('createGroup', cb => client.createGroup({ path: 'peeps/inner' }, cb));
  await call('group.add', cb => group.add({ user: user }, cb));
  const [, members] = await call('group.fetch', cb => group.fetch(cb));
  assert.strictEqual(members.length, 1);
  assert.strictEqual(members[0].get('username'), 'marty');

  await call('connect', cb => user.connect('likes', dog, cb));
  await call('getConnections', cb => user.getConnections('likes', cb));
  assert.deepStrictEqual(Object.keys(user.likes), ['fido']);
  await call('disconnect', cb => user.disconnect('likes', dog, cb));

  await call('createUserActivity', cb => client.createUserActivity('marty', { actor: { displayName: 'Marty' }, verb: 'post', content: 'hi' }, cb));
  const [feed] = await call('feed', cb => client.createCollection({ type: 'users/marty/feed' }, cb));
  assert.strictEqual(feed.getNextEntity().get('content'), 'hi');

  await call('destroy', cb => dog.destroy(cb));
  let missing = false;
  try { await call('getEntity', cb => client.getEntity({ type: 'dogs', name: 'fido' }, cb)); } catch (e) { missing = true; }
  assert.ok(missing, 'a deleted entity is not found');
  console.log('sdk 0.10.11: all steps passed');
})().catch(e => { console.error(e.stack || e); process.exit(1); });
