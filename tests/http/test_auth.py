"""Authentication, roles and permissions over real HTTP (spec 1.5, 1.6, 7).

Every grant type with JSON, form and query parameters and Basic client
credentials; bad, expired and revoked tokens; password change and
deactivation; the default roles of a closed app; a narrowed role; ${user}
and /me/ paths; grants through a group's role; the guest role deleted;
the isolation matrix (two orgs x two apps, every credential kind, every URL
form); and secrets kept out of `params` and the access log.
"""
import base64
import json
import time
import urllib.parse

from harness import SU, SUPERUSER, Server, Shared, basic_auth, check, eq

srv = Shared()
teardown = srv.close

APP = "/test-org/test-app"


def bearer(token):
    return {"Authorization": "Bearer " + token}


def post_token(s, path, body, form=False, headers=None):
    """POSTs a grant as JSON (or form-encoded); returns (status, doc)."""
    hdrs = dict(headers or {})
    if form:
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        st, doc, _, _ = s.request("POST", path, raw=urllib.parse.urlencode(body).encode(),
                                  headers=hdrs)
    else:
        st, doc, _, _ = s.request("POST", path, body, headers=hdrs)
    return st, doc


def user_token(s, app, username, password):
    st, doc = post_token(s, app + "/token", {"grant_type": "password", "username": username,
                                             "password": password})
    eq(st, 200, "token for %s: %r" % (username, doc))
    return doc["access_token"]


def make_user(s, app, username, password="pw-%s-1", headers=None):
    password = password % username if "%s" in password else password
    st, doc, _, _ = s.request("POST", app + "/users", {"username": username,
                                                       "email": username + "@x.org",
                                                       "password": password}, headers=headers)
    eq(st, 200, "create user %s: %r" % (username, doc))
    return doc["entities"][0]["uuid"], password


def test_password_grant_json_form_and_query():
    s = srv()
    uid, pw = make_user(s, APP, "grace")
    for form in (False, True):
        st, doc = post_token(s, APP + "/token", {"grant_type": "password", "username": "grace",
                                                 "password": pw}, form=form)
        eq(st, 200, "form=%s" % form)
        eq((len(doc["access_token"]) >= 22, doc["expires_in"], doc["user"]["uuid"]),
           (True, 604800, uid), "token reply")
        check("password" not in doc["user"], "no password in the user")
    q = urllib.parse.urlencode({"grant_type": "password", "username": "grace@x.org",
                                "password": pw, "ttl": 60000})
    st, doc, _, _ = s.request("GET", APP + "/token?" + q)
    eq((st, doc["expires_in"]), (200, 60), "GET with query parameters, e-mail, ttl")
    eq(s.app("GET", "/users/me", headers=bearer(doc["access_token"]))[1]["entities"][0]["uuid"],
       uid, "/users/me")
    for body, code in (({"grant_type": "password", "username": "grace", "password": "nope"},
                        "invalid_grant"),
                       ({"grant_type": "password", "username": "nobody", "password": pw},
                        "invalid_grant"),
                       ({"username": "grace", "password": pw}, "invalid_request"),
                       ({"grant_type": "magic"}, "unsupported_grant_type")):
        st, doc = post_token(s, APP + "/token", body)
        eq((st, doc["error"]), (400, code), "refused %r" % body)
        check("timestamp" not in doc, "an OAuth error body")
    st, doc = post_token(s, APP + "/token", {"grant_type": "password", "username": "grace",
                                             "password": "nope"})
    eq(doc["error_description"], "invalid username or password", "message")


def test_token_ttl_limits():
    """Usergrid's ApplicationResourceIT: tokenTtl, ttlOverMax, ttlNan,
    updateAccessTokenTtl; the longest life is the app's accesstokenttl."""
    s = srv()
    app, _ = closed_app(s, "test-org", "ttl-app")
    uid, pw = make_user(s, app, "tilly")
    grant = {"grant_type": "password", "username": "tilly", "password": pw}

    def ttl(value, path=app + "/token", body=grant):
        return post_token(s, path, dict(body, ttl=value))

    eq(ttl(2000)[1]["expires_in"], 2, "tokenTtl")
    eq(ttl(0)[1]["expires_in"], 604800, "0: the longest allowed")
    eq(ttl(604800000)[1]["expires_in"], 604800, "exactly the longest")
    for over in (604800001, 2 ** 63 - 1):
        st, doc = ttl(over)
        eq((st, doc["error"], doc["error_description"]),
           (400, "illegal_argument", "Your token age cannot be more than the maximum age "
                                     "of 604800000 milliseconds"), "ttlOverMax %d" % over)
    for bad in ("derp", "-5", "1.5", 1.5, True, "99999999999999999999", "12ms"):
        st, doc = ttl(bad)
        eq((st, doc["error"]), (400, "invalid_request"), "ttlNan %r" % (bad,))
    q = urllib.parse.urlencode(dict(grant, ttl="derp"))
    eq(s.request("GET", app + "/token?" + q)[0], 400, "ttlNan as a query parameter")
    # the app's accesstokenttl is the default and the maximum
    # (Usergrid's test sends it as a string)
    eq(s.request("PUT", app, {"accesstokenttl": "31536000000"}, headers=SU)[0], 200, "set")
    eq(ttl(0)[1]["expires_in"], 31536000, "updateAccessTokenTtl")
    eq(ttl(31536000001)[0], 400, "over the app's maximum")
    eq(s.request("PUT", app, {"accesstokenttl": 60000}, headers=SU)[0], 200, "shorter")
    eq(ttl(0)[1]["expires_in"], 60, "the app's default")
    st, doc = ttl(60001)
    eq((st, doc["error_description"]), (400, "Your token age cannot be more than the "
                                             "maximum age of 60000 milliseconds"), "app max")
    cid, secret = app_credentials(s, app)
    st, doc = ttl(60001, body={"grant_type": "client_credentials", "client_id": cid,
                               "client_secret": secret})
    eq((st, doc["error"]), (400, "illegal_argument"), "client credentials: same maximum")
    st, doc, _, _ = s.request("GET", app + "/users/tilly/token?ttl=60001", headers=SU)
    eq((st, doc["error"]), (400, "illegal_argument"), "GET /users/u/token: same maximum")
    eq(s.request("PUT", app, {"accesstokenttl": 0}, headers=SU)[0], 200, "no limit")
    st, doc = ttl(2 ** 63 - 1)
    eq((st, doc["expires_in"]), (200, 0), "no limit: a token that never expires")
    eq(s.request("GET", app + "/users/me", headers=bearer(doc["access_token"]))[0], 200,
       "and it works")
    # admin tokens: the store's default is their maximum
    st, doc = ttl(604800001, "/management/token",
                  {"grant_type": "password", "username": SUPERUSER[0], "password": SUPERUSER[1]})
    eq((st, doc["error"]), (400, "illegal_argument"), "admin token over the maximum")


def test_pin_grant():
    s = srv()
    s.app("POST", "/users", {"username": "pinny", "pin": "1234", "password": "pw-pinny"})
    st, doc = post_token(s, APP + "/token", {"grant_type": "pin", "username": "pinny",
                                             "pin": "1234"})
    eq((st, doc["user"]["username"]), (200, "pinny"), "pin grant")
    st, doc = post_token(s, APP + "/token", {"grant_type": "pin", "username": "pinny",
                                             "pin": "9999"})
    eq((st, doc["error"]), (400, "invalid_grant"), "wrong pin")


def app_credentials(s, app, headers=SU):
    st, doc, _, _ = s.request("GET", app + "/credentials", headers=headers)
    eq(st, 200, "credentials of %s: %r" % (app, doc))
    return doc["credentials"]["client_id"], doc["credentials"]["client_secret"]


def test_client_credentials_grants():
    s = srv()
    cid, secret = app_credentials(s, APP)
    check(cid.startswith("YXA6"), "app client id")
    for form in (False, True):
        st, doc = post_token(s, APP + "/token", {"grant_type": "client_credentials",
                                                 "client_id": cid, "client_secret": secret},
                             form=form)
        eq((st, doc["application"]["name"]), (200, "test-org/test-app"), "app creds form=%s" % form)
    st, doc = post_token(s, APP + "/token", {"grant_type": "client_credentials"},
                         headers=basic_auth(cid, secret))
    eq(st, 200, "Basic client credentials")
    st, doc = post_token(s, APP + "/token", {"grant_type": "client_credentials",
                                             "client_id": cid, "client_secret": secret + "x"})
    eq((st, doc["error"]), (400, "invalid_grant"), "wrong secret")
    # a new secret replaces the old one
    st, doc, _, _ = s.request("POST", APP + "/credentials", headers=SU)
    eq(st, 200, "regenerate")
    cid2, secret2 = doc["credentials"]["client_id"], doc["credentials"]["client_secret"]
    eq(cid2, cid, "same id")
    check(secret2 != secret, "new secret")
    st, doc = post_token(s, APP + "/token", {"grant_type": "client_credentials",
                                             "client_id": cid, "client_secret": secret})
    eq(st, 400, "old secret refused")
    # client_id + client_secret as parameters authenticate a request
    st, doc, _, _ = s.request("GET", APP + "/credentials?client_id=%s&client_secret=%s"
                              % (cid2, secret2))
    eq(st, 200, "app credentials as parameters")
    eq(doc["params"], {}, "no secret echoed")
    # org credentials at /management/token
    st, doc, _, _ = s.request("GET", "/management/orgs/test-org/credentials", headers=SU)
    ocid, osecret = doc["credentials"]["client_id"], doc["credentials"]["client_secret"]
    check(ocid.startswith("b3U6"), "org client id")
    st, doc = post_token(s, "/management/token", {"grant_type": "client_credentials"},
                         headers=basic_auth(ocid, osecret))
    eq((st, doc["organization"]["name"]), (200, "test-org"), "org token")
    st, doc = post_token(s, "/management/token", {"grant_type": "client_credentials",
                                                  "client_id": cid2, "client_secret": secret2})
    eq(st, 400, "app credentials are no org's")


def test_bad_expired_and_revoked_tokens():
    s = srv()
    uid, pw = make_user(s, APP, "tess")
    st, doc = s.app("GET", "/things", headers=bearer("garbage"))
    eq((st, doc["error"]), (401, "auth_bad_access_token"), "garbage token")
    st, doc, _, _ = s.request("GET", APP + "/things?access_token=" + "A" * 43)
    eq((st, doc["error"]), (401, "auth_bad_access_token"), "unknown token")
    st, doc = post_token(s, APP + "/token", {"grant_type": "password", "username": "tess",
                                             "password": pw, "ttl": 1})
    time.sleep(0.05)
    st, doc = s.app("GET", "/users/me", headers=bearer(doc["access_token"]))
    eq((st, doc["error"]), (401, "expired_token"), "expired")
    t1, t2 = user_token(s, APP, "tess", pw), user_token(s, APP, "tess", pw)
    st, doc = s.app("PUT", "/users/tess/revoketoken?token=" + t1, headers=bearer(t2))
    eq(st, 200, "revoke one")
    eq(s.app("GET", "/users/me", headers=bearer(t1))[0], 401, "revoked token")
    eq(s.app("GET", "/users/me", headers=bearer(t2))[0], 200, "the other still good")
    st, doc = s.app("POST", "/users/me/revoketokens", headers=bearer(t2))
    eq(st, 200, "revoke all")
    eq(s.app("GET", "/users/me", headers=bearer(t2))[0], 401, "all revoked")
    # knowing a token is enough to revoke it (an SDK's logout sends no other
    # credential); it must be that user's
    t3 = user_token(s, APP, "tess", pw)
    make_user(s, APP, "tom")
    eq(s.app("PUT", "/users/tom/revoketoken?token=" + t3)[0], 404, "not tom's token")
    eq(s.app("PUT", "/users/tess/revoketoken?token=" + t3)[0], 200, "logout without a header")
    eq(s.app("GET", "/users/me", headers=bearer(t3))[0], 401, "logged out")


def test_password_change_and_deactivation():
    s = srv()
    uid, pw = make_user(s, APP, "pete")
    t = user_token(s, APP, "pete", pw)
    st, doc = s.app("PUT", "/users/pete/password", {"oldpassword": "wrong", "newpassword": "n3w-pass-w0rd"},
                    headers=bearer(t))
    eq(st, 400, "wrong old password")
    st, doc = s.app("PUT", "/users/pete/password", {"newpassword": "n3w-pass-w0rd"}, headers=bearer(t))
    eq(st, 400, "a user must give the old password")
    st, doc = s.app("PUT", "/users/pete/password", {"oldpassword": pw, "newpassword": "short"},
                    headers=bearer(t))
    eq((st, doc["error"]), (400, "error_password_policy_violation"), "too short")
    st, doc = s.app("POST", "/users/pete/password", {"oldpassword": pw, "newpassword": "n3w-pass-w0rd"},
                    headers=bearer(t))
    eq(st, 200, "change")
    eq(s.app("GET", "/users/me", headers=bearer(t))[0], 401, "a change revokes the tokens")
    st, _ = post_token(s, APP + "/token", {"grant_type": "password", "username": "pete",
                                           "password": pw})
    eq(st, 400, "old password refused")
    t = user_token(s, APP, "pete", "n3w-pass-w0rd")
    make_user(s, APP, "other")
    st, doc = s.app("PUT", "/users/other/password", {"newpassword": "x" * 8}, headers=bearer(t))
    eq(st, 401, "not another user's password")
    st, doc = s.app("PUT", "/users/pete/password", {"newpassword": "admin-set"}, headers=SU)
    eq(st, 200, "an admin needs no old password")
    t = user_token(s, APP, "pete", "admin-set")
    st, doc = s.app("POST", "/users/pete/deactivate", headers=bearer(t))
    eq(st, 401, "a user cannot deactivate")
    st, doc = s.app("POST", "/users/pete/deactivate", headers=SU)
    eq((st, doc["entities"][0]["activated"]), (200, False), "deactivated")
    check(doc["entities"][0]["deactivated"] > 0, "deactivated time")
    eq(s.app("GET", "/users/me", headers=bearer(t))[0], 401, "deactivation revokes tokens")
    st, doc = post_token(s, APP + "/token", {"grant_type": "password", "username": "pete",
                                             "password": "admin-set"})
    eq((st, doc["error"], doc["error_description"]), (400, "invalid_grant", "user not activated"),
       "an inactive user gets no token")


def closed_app(s, org, app, owner=None):
    """Creates org (with an owner admin) if needed and a closed app in it."""
    if owner:
        st, doc, _, _ = s.request("POST", "/management/orgs",
                                  {"organization": org, "username": owner,
                                   "email": owner + "@x.org", "password": "pw-" + owner},
                                  headers=SU)
        eq(st, 200, "org %s" % org)
    st, doc, _, _ = s.request("POST", "/management/orgs/%s/apps" % org, {"name": app}, headers=SU)
    eq(st, 200, "app %s/%s" % (org, app))
    return "/%s/%s" % (org, app), doc["data"]["%s/%s" % (org, app)]


def test_default_roles_of_a_closed_app():
    s = Server()
    try:
        app, _ = closed_app(s, "shop", "store", owner="owner1")
        st, doc, _, _ = s.request("GET", app + "/things")
        eq((st, doc["error"]), (401, "unauthorized"), "guest may not read")
        st, doc, _, _ = s.request("POST", app + "/things", {"name": "x"})
        eq(st, 401, "guest may not write")
        uid, pw = make_user(s, app, "ann")               # guest: post:/users
        st, _, _, _ = s.request("POST", app + "/devices", {"name": "d1"})
        eq(st, 200, "guest: post:/devices")
        st, _, _, _ = s.request("PUT", app + "/devices/d1", {"model": "m"})
        eq(st, 200, "guest: put:/devices/*")
        t = user_token(s, app, "ann", pw)
        st, _, _, _ = s.request("POST", app + "/things", {"name": "x"}, headers=bearer(t))
        eq(st, 200, "default: a user may write")
        st, _, _, _ = s.request("DELETE", app + "/things/x", headers=bearer(t))
        eq(st, 200, "default: and delete")
        # the sandbox of a new org is open
        st, doc, _, _ = s.request("POST", "/shop/sandbox/things", {"name": "y"})
        eq(st, 200, "sandbox is open")
    finally:
        s.close()


def narrowed(s):
    """A closed app without its default role, where carl's one role
    `catrole` grants get,post:/cats/*; dora is another user.  Returns the
    app's path, carl's uuid and his bearer header."""
    app, _ = closed_app(s, "zoo", "cats", owner="keeper")
    uid, pw = make_user(s, app, "carl")
    make_user(s, app, "dora")
    eq(s.request("DELETE", app + "/roles/default", headers=SU)[0], 200, "default deleted")
    s.request("POST", app + "/roles", {"name": "catrole"}, headers=SU)
    st, doc, _, _ = s.request("POST", app + "/roles/catrole/permissions",
                              {"permission": "get,post:/cats/*"}, headers=SU)
    eq((st, doc["data"]), (200, ["get,post:/cats/*"]), "grant")
    s.request("POST", app + "/users/carl/roles/catrole", headers=SU)
    s.request("POST", app + "/cats", {"name": "fluffy"}, headers=SU)
    return app, uid, bearer(user_token(s, app, "carl", pw))


def test_narrowed_role_and_user_paths():
    with Server() as s:
        app, uid, h = narrowed(s)
        eq(s.request("GET", app + "/cats/fluffy", headers=h)[0], 200, "GET allowed")
        eq(s.request("POST", app + "/cats/fluffy", headers=h)[0], 200, "POST allowed")
        st, doc, _, _ = s.request("PUT", app + "/cats/fluffy", {"a": 1}, headers=h)
        eq((st, doc["error"]), (401, "unauthorized"), "PUT refused")
        eq(s.request("DELETE", app + "/cats/fluffy", headers=h)[0], 401, "DELETE refused")
        eq(s.request("GET", app + "/dogs", headers=h)[0], 401, "elsewhere refused")
        # /users/me always works for the user; deleting oneself does not
        st, doc, _, _ = s.request("GET", app + "/users/me", headers=h)
        eq((st, doc["entities"][0]["username"]), (200, "carl"), "users/me")
        eq(s.request("GET", app + "/users/" + uid, headers=h)[0], 200, "own uuid")
        eq(s.request("GET", app + "/users/dora", headers=h)[0], 401, "not another user")
        eq(s.request("DELETE", app + "/users/me", headers=h)[0], 401, "DELETE /users/me")


def test_user_and_me_in_a_direct_grant():
    with Server() as s:
        app, uid, h = narrowed(s)
        s.request("POST", app + "/users/carl/permissions",
                  {"permission": "post:/users/${user}/activities"}, headers=SU)
        s.request("POST", app + "/users/carl/permissions",
                  {"permission": "get:/users/me/**"}, headers=SU)
        act = {"verb": "post", "content": "hi", "actor": {"displayName": "c"}}
        eq(s.request("POST", app + "/users/me/activities", act, headers=h)[0], 200, "${user} as me")
        eq(s.request("POST", app + "/users/carl/activities", act, headers=h)[0], 200, "${user}")
        eq(s.request("POST", app + "/users/dora/activities", act, headers=h)[0], 401,
           "${user} is not dora")
        eq(s.request("GET", app + "/users/carl/activities", headers=h)[0], 200, "/me/ as name")
        eq(s.request("GET", app + "/users/dora/activities", headers=h)[0], 401, "/me/ not dora")


def test_group_role_and_explain():
    with Server() as s:
        app, uid, h = narrowed(s)
        s.request("POST", app + "/roles", {"name": "readers"}, headers=SU)
        s.request("POST", app + "/roles/readers/permissions", {"permission": "get:/books/**"},
                  headers=SU)
        s.request("POST", app + "/groups", {"path": "club"}, headers=SU)
        s.request("POST", app + "/groups/club/roles/readers", headers=SU)
        s.request("POST", app + "/books", {"name": "dune"}, headers=SU)
        eq(s.request("GET", app + "/books/dune", headers=h)[0], 401, "not a member yet")
        s.request("POST", app + "/groups/club/users/carl", headers=SU)
        eq(s.request("GET", app + "/books/dune", headers=h)[0], 200, "through the group's role")
        eq(s.request("PUT", app + "/books/dune", {"a": 1}, headers=h)[0], 401, "get only")
        # explain says which grant of which role of which group allowed it
        st, doc, _, _ = s.request("GET", app + "/auth/explain?method=GET&path=/books/dune&user=carl",
                                  headers=SU)
        why = doc["data"]
        eq((st, why["allowed"], why["reason"]),
           (200, True, 'allowed by "get:/books/**" of role readers of group club'), "explain")
        eq(why["checked"][0]["source"], "implicit: a user may read themself", "first source")
        st, doc, _, _ = s.request("GET", app + "/auth/explain?method=put&path=/books/dune&user=carl",
                                  headers=SU)
        check(not doc["data"]["allowed"] and doc["data"]["reason"].startswith("denied"),
              "explain a refusal: %r" % doc["data"])
        check(any(c["source"] == "role catrole" for c in doc["data"]["checked"]), "roles listed")
        st, doc, _, _ = s.request("GET", app + "/auth/explain?path=/users", headers=SU)
        eq((doc["data"]["subject"], doc["data"]["allowed"]), ("guest (anonymous)", False),
           "guest may not list users")
        eq(s.request("GET", app + "/auth/explain?path=/x", headers=h)[0], 401, "admins only")
        eq(s.request("GET", app + "/auth/explain?path=x", headers=SU)[0], 400, "bad path")


def test_revoked_grant_and_deleted_guest_role():
    with Server() as s:
        app, uid, h = narrowed(s)
        st, doc, _, _ = s.request("DELETE", app + "/roles/catrole/permissions?permission="
                                  + urllib.parse.quote("get,post:/cats/*"), headers=SU)
        eq((st, doc["data"]), (200, []), "revoked")
        eq(s.request("GET", app + "/cats/fluffy", headers=h)[0], 401, "grant gone")
        eq(s.request("DELETE", app + "/roles/guest", headers=SU)[0], 200, "guest deleted")
        st, doc, _, _ = s.request("POST", app + "/users", {"username": "eve"})
        eq((st, doc["error"], doc["error_description"]),
           (401, "unauthorized", "No application guest access authorized"), "no guest")


def test_isolation_matrix():
    s = Server()
    try:
        apps = {}
        for org in ("north", "south"):
            for i, name in enumerate(("one", "two")):
                path, uuid = closed_app(s, org, name, owner=("boss-" + org) if i == 0 else None)
                apps[(org, name)] = uuid
        orgs = {o: s.request("GET", "/management/orgs/" + o, headers=SU)[1]["organization"]["uuid"]
                for o in ("north", "south")}
        make_user(s, "/north/one", "nina", headers=SU)
        creds = {}
        creds["admin"] = bearer(post_token(s, "/management/token", {
            "grant_type": "password", "username": "boss-north", "password": "pw-boss-north"})[1]
            ["access_token"])
        ocid, osec = [s.request("GET", "/management/orgs/north/credentials", headers=SU)[1]
                      ["credentials"][k] for k in ("client_id", "client_secret")]
        creds["org basic"] = basic_auth(ocid, osec)
        creds["org token"] = bearer(post_token(s, "/management/token", {
            "grant_type": "client_credentials", "client_id": ocid, "client_secret": osec})[1]
            ["access_token"])
        acid, asec = app_credentials(s, "/north/one")
        creds["app basic"] = basic_auth(acid, asec)
        creds["app token"] = bearer(post_token(s, "/north/one/token", {
            "grant_type": "client_credentials", "client_id": acid, "client_secret": asec})[1]
            ["access_token"])
        creds["user"] = bearer(user_token(s, "/north/one", "nina", "pw-nina-1"))
        reach = {"admin": {("north", "one"), ("north", "two")},
                 "org basic": {("north", "one"), ("north", "two")},
                 "org token": {("north", "one"), ("north", "two")},
                 "app basic": {("north", "one")}, "app token": {("north", "one")},
                 "user": {("north", "one")}}
        for kind, hdrs in creds.items():
            for (org, name), app_id in apps.items():
                want = 200 if (org, name) in reach[kind] else 401
                for prefix in ("/%s/%s" % (org, name), "/%s/%s" % (org, app_id),
                               "/%s/%s" % (orgs[org], app_id), "/" + app_id):
                    st, doc, _, _ = s.request("GET", prefix + "/users", headers=hdrs)
                    eq(st, want, "%s GET %s/users: %r" % (kind, prefix, doc))
                    st, doc, _, _ = s.request("POST", prefix + "/things", {"k": kind},
                                              headers=hdrs)
                    eq(st, want, "%s POST %s/things" % (kind, prefix))
        # management: an admin manages their own org only
        h = creds["admin"]
        eq(s.request("GET", "/management/orgs/north", headers=h)[0], 200, "own org")
        st, doc, _, _ = s.request("GET", "/management/orgs/south", headers=h)
        eq((st, doc["error"]), (401, "unauthorized"), "other org")
        eq(s.request("GET", "/management/orgs/south/apps", headers=creds["org token"])[0], 401,
           "org credentials: other org's apps")
        st, doc, _, _ = s.request("POST", "/management/orgs/north/apps", {"name": "three"},
                                  headers=h)
        eq(st, 200, "an admin creates an app in their org")
        st, doc, _, _ = s.request("GET", "/management/me", headers=h)
        eq((st, doc["user"]["username"], sorted(doc["user"]["organizations"])),
           (200, "boss-north", ["north"]), "management/me")
        eq(s.request("GET", "/management/me", headers=creds["user"])[0], 401, "me: no app user")
        eq(s.request("POST", "/management/orgs", {"organization": "x"}, headers=h)[0], 401,
           "only the superuser creates orgs")
        # an admin gets a token for a user; a user may not
        st, doc, _, _ = s.request("GET", "/north/one/users/nina/token", headers=h)
        eq((st, doc["user"]["username"]), (200, "nina"), "admin gets a user's token")
        eq(s.request("GET", "/north/one/users/me", headers=bearer(doc["access_token"]))[0], 200,
           "that token works")
        eq(s.request("GET", "/north/one/users/nina/token", headers=creds["user"])[0], 403,
           "a user may not")
        eq(s.request("GET", "/south/one/users/nina/token", headers=h)[0], 401, "nor another org")
    finally:
        s.close()


def test_secrets_stay_out_of_params_and_logs():
    s = Server(quiet=False)
    try:
        uid, pw = make_user(s, APP, "quinn", password="hush-hush-42")
        q = urllib.parse.urlencode({"grant_type": "password", "username": "quinn",
                                    "password": pw})
        st, doc, _, _ = s.request("GET", APP + "/token?" + q)
        eq(st, 200, "token by GET")
        t = doc["access_token"]
        st, doc, _, _ = s.request("GET", APP + "/things?access_token=%s&client_secret=zz&pin=77"
                                  "&oldpassword=o1&newpassword=n1&x=1" % t)
        eq((st, doc["params"]), (200, {"x": ["1"]}), "only harmless params echoed")
        cid, secret = app_credentials(s, APP)
        s.request("GET", APP + "/things?client_id=%s&client_secret=%s" % (cid, secret))
    finally:
        s.stop()
        log = s.stderr
        s.close()
    check('"target":"/test-org/test-app/things?access_token=***' in log,
          "the access log is on: %r" % log[:300])
    for secret_text in (pw, t, secret, "hush"):
        check(secret_text not in log, "%r reached the log" % secret_text)


def test_reserved_me_and_bad_grants():
    s = srv()
    st, doc = s.app("POST", "/users", {"username": "me"})
    eq((st, doc["error"], doc["error_description"]),
       (400, "illegal_argument", "Username 'me' is reserved"), "me reserved")
    s.app("POST", "/users", {"username": "mel"})
    eq(s.app("PUT", "/users/mel", {"username": "ME"})[0], 400, "nor by rename")
    st, doc = s.app("POST", "/users", {"username": "shorty", "password": "1234567"})
    eq((st, doc["error"]), (400, "error_password_policy_violation"), "password policy")
    eq(s.app("GET", "/users/shorty")[0], 404, "no user left behind")
    for bad in ("nocolon", "get:", "get: , ", "get:" + "/a" * 70, "get:/*" + "a?" * 33 + "*"):
        st, doc = s.app("POST", "/roles/guest/permissions", {"permission": bad})
        eq((st, doc["error"]), (400, "illegal_argument"), "bad grant %r" % bad)
    # without a token, me is nobody
    st, doc = s.app("GET", "/users/me")
    eq(st, 404, "anonymous /users/me")


def test_password_min_setting():
    with Server(args=["--password-min", "12"]) as s:
        st, doc = s.app("POST", "/users", {"username": "w", "password": "eleven-char"})
        eq((st, doc["error"]), (400, "error_password_policy_violation"), "under 12")
        eq(doc["error_description"], "Password must be at least 12 characters long", "message")
        eq(s.app("POST", "/users", {"username": "w", "password": "twelve-chars"})[0], 200, "12")


def test_token_rate_limit():
    # one attempt back every 2 s: slow enough that even a sanitizer build's
    # password hashes do not refill the bucket between attempts
    with Server(args=["--token-rate", "3/2000"]) as s:
        make_user(s, APP, "rita")
        guess = {"grant_type": "password", "username": "rita", "password": "guess-guess"}
        for i in range(3):
            eq(post_token(s, APP + "/token", guess)[0], 400, "attempt %d" % i)
        st, doc, hdrs, _ = s.request("POST", APP + "/token", guess)
        eq((st, doc["error"]), (429, "too_many_requests"), "throttled")
        check(int(hdrs["retry-after"]) >= 1, "Retry-After")
        st, doc = post_token(s, APP + "/token", dict(guess, password="pw-rita-1"))
        eq(st, 429, "even the right password waits")
        time.sleep(2.1)
        st, doc = post_token(s, APP + "/token", dict(guess, password="pw-rita-1"))
        eq(st, 200, "allowed again")
        codes = [post_token(s, "/management/token", {"grant_type": "password",
                                                     "username": "u%d" % i,
                                                     "password": "y" * 8})[0]
                 for i in range(4)]
        eq(codes[-1], 429, "new names, same address: throttled %r" % codes)


def admin_token(s, username, password):
    st, doc = post_token(s, "/management/token", {"grant_type": "password",
                                                  "username": username, "password": password})
    eq(st, 200, "admin token for %s: %r" % (username, doc))
    return bearer(doc["access_token"])


def test_org_admins_and_admin_passwords():
    with Server() as s:
        closed_app(s, "acme", "shop", owner="ann-admin")
        closed_app(s, "beta", "shop", owner="cat-admin")
        ann = admin_token(s, "ann-admin", "pw-ann-admin")
        cat = admin_token(s, "cat-admin", "pw-cat-admin")
        st, doc, _, _ = s.request("POST", "/management/orgs/acme/users",
                                  {"username": "bob-admin", "email": "bob@acme.org",
                                   "password": "pw-bob-admin"}, headers=ann)
        eq((st, doc["data"]["user"]["username"]), (200, "bob-admin"), "an admin adds an admin")
        check("password" not in doc["data"]["user"], "no password echoed")
        bob = admin_token(s, "bob-admin", "pw-bob-admin")
        eq(s.request("GET", "/management/orgs/acme/apps", headers=bob)[0], 200, "bob in acme")
        eq(s.request("GET", "/management/orgs/beta/apps", headers=bob)[0], 401, "not in beta")
        eq(s.request("PUT", "/management/orgs/acme/users/bob-admin", headers=cat)[0], 401,
           "cat cannot touch acme")
        st, doc, _, _ = s.request("PUT", "/management/orgs/acme/users/cat-admin@x.org", headers=ann)
        eq((st, doc["data"]["user"]["username"]), (200, "cat-admin"), "existing admin added")
        eq(s.request("GET", "/acme/shop/things", headers=cat)[0], 200, "cat now reaches acme")
        st, doc, _, _ = s.request("GET", "/management/orgs/acme/users", headers=ann)
        eq(sorted(u["username"] for u in doc["data"]["users"]),
           ["ann-admin", "bob-admin", "cat-admin"], "acme's admins")
        eq(s.request("DELETE", "/management/orgs/acme/users/cat-admin", headers=ann)[0], 200,
           "removed")
        eq(s.request("GET", "/acme/shop/things", headers=cat)[0], 401, "cat out of acme again")
        # an admin's own record and password
        st, doc, _, _ = s.request("GET", "/management/users/bob-admin", headers=bob)
        eq((st, sorted(doc["data"]["user"]["organizations"])), (200, ["acme"]), "own record")
        eq(s.request("GET", "/management/users/ann-admin", headers=bob)[0], 401, "not another's")
        st, doc, _, _ = s.request("PUT", "/management/users/bob-admin/password",
                                  {"oldpassword": "wrong-password", "newpassword": "n3w-bob-pw"},
                                  headers=bob)
        eq(st, 400, "wrong old password")
        st, doc, _, _ = s.request("PUT", "/management/users/bob-admin/password",
                                  {"oldpassword": "pw-bob-admin", "newpassword": "n3w-bob-pw"},
                                  headers=bob)
        eq(st, 200, "changed")
        eq(s.request("GET", "/management/me", headers=bob)[0], 401, "its tokens revoked")
        st, _ = post_token(s, "/management/token", {"grant_type": "password",
                                                    "username": "bob-admin",
                                                    "password": "pw-bob-admin"})
        eq(st, 400, "old password refused")
        bob = admin_token(s, "bob-admin", "n3w-bob-pw")
        eq(s.request("PUT", "/management/users/ann-admin/password",
                     {"newpassword": "taken-over!"}, headers=bob)[0], 401, "not another's password")
        eq(s.request("PUT", "/management/users/bob-admin/password",
                     {"newpassword": "reset-by-su"}, headers=SU)[0], 200, "the superuser resets")
        admin_token(s, "bob-admin", "reset-by-su")


def test_admin_password_changed():
    """Usergrid's AdminUsersIT/AccessTokenIT: an admin's token reply and
    /management/me carry passwordChanged, the time the password was last
    set (for a never-changed password, when the admin was made)."""
    s = srv()
    before = int(time.time() * 1000)
    closed_app(s, "pwc-org", "app", owner="pwc-admin")
    grant = {"grant_type": "password", "username": "pwc-admin", "password": "pw-pwc-admin"}
    st, doc = post_token(s, "/management/token", grant)
    eq(st, 200, "token")
    first = doc["passwordChanged"]
    eq(first, doc["user"]["created"], "never changed: the admin's creation")
    check(before <= first <= int(time.time() * 1000), "a time in ms: %r" % first)
    tok = bearer(doc["access_token"])
    st, me = s.request("GET", "/management/me", headers=tok)[:2]
    eq((st, me["passwordChanged"]), (200, first), "/management/me")
    time.sleep(0.01)
    eq(s.request("PUT", "/management/users/pwc-admin/password",
                 {"oldpassword": "pw-pwc-admin", "newpassword": "n3w-pwc-pw"}, headers=tok)[0],
       200, "changed")
    st, doc = post_token(s, "/management/token", dict(grant, password="n3w-pwc-pw"))
    second = doc["passwordChanged"]
    check(first < second <= int(time.time() * 1000), "later: %r then %r" % (first, second))
    st, me = s.request("GET", "/management/me", headers=bearer(doc["access_token"]))[:2]
    eq(me["passwordChanged"], second, "/management/me after the change")
    st, doc = post_token(s, "/management/token", {"grant_type": "password",
                                                  "username": SUPERUSER[0],
                                                  "password": SUPERUSER[1]})
    check(st == 200 and "passwordChanged" not in doc, "none for the configured superuser")
    # the store writes it, a client does not
    st, doc, _, _ = s.request("POST", "/management/orgs/pwc-org/users",
                              {"username": "pwc2", "email": "pwc2@x.org",
                               "password": "pw-pwc2-pw", "PasswordChanged": 1}, headers=SU)
    eq((st, doc.get("error")), (400, "illegal_argument"), "passwordChanged in a new admin")
    st, doc, _, _ = s.request("POST", "/management/orgs",
                              {"organization": "pwc-org2", "username": "pwc3",
                               "email": "pwc3@x.org", "password": "pw-pwc3-pw",
                               "passwordChanged": 1}, headers=SU)
    eq(st, 200, "an owner's other fields are not taken")
    st, doc = post_token(s, "/management/token", {"grant_type": "password", "username": "pwc3",
                                                  "password": "pw-pwc3-pw"})
    eq(doc["passwordChanged"], doc["user"]["created"], "the owner's creation")
    # app users' token replies have none (Usergrid gives it to admins only)
    make_user(s, APP, "pwc-user")
    st, doc = post_token(s, APP + "/token", {"grant_type": "password", "username": "pwc-user",
                                             "password": "pw-pwc-user-1"})
    check(st == 200 and "passwordChanged" not in doc, "not for app users")


def test_check_knows_tokens_and_client_secrets():
    """`ugstore check` reads what authentication stores (tokens, client
    secret generations, the auth key) as known families: no note, no fault."""
    import subprocess
    import tempfile
    from harness import BIN
    data = tempfile.mkdtemp(prefix="ugstore-authcheck-")
    try:
        with Server(data=data) as s:
            make_user(s, APP, "cheq")
            user_token(s, APP, "cheq", "pw-cheq-1")
            post_token(s, "/management/token", {"grant_type": "password", "username": "super",
                                                "password": "super-secret"})
            eq(s.request("POST", APP + "/credentials", headers=SU)[0], 200, "new secret")
            eq(s.request("POST", "/management/orgs/test-org/credentials", headers=SU)[0], 200,
               "new org secret")
        p = subprocess.run([BIN, "check", "--data", data], capture_output=True, text=True,
                           timeout=120)
        eq(p.returncode, 0, "check: " + p.stdout + p.stderr)
        check("note:" not in p.stdout, "nothing unknown: " + p.stdout)
    finally:
        import shutil
        shutil.rmtree(data, ignore_errors=True)
