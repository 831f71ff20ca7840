#!/usr/bin/python3
"""An OAuth 2 authorization server for Broadside's tests, built on Authlib (Debian's
python3-authlib) and Flask, everything in memory. It prints "PORT n" once listening.

Grants: device code (RFC 8628), authorization code with PKCE to a loopback redirect
(RFC 8252), client credentials (with a secret, or a client assertion signed with a
certificate's key, RFC 7523), JWT bearer (a service account naming a mailbox, RFC 7523)
and refresh token (rotating: a used refresh token is revoked). Access tokens live
--lifetime seconds. Introspection (RFC 7662) answers the SMTP test server and Dovecot;
revocation (RFC 7009) lets a test revoke a refresh token.

Paths are those of Microsoft's identity platform (/TENANT/oauth2/v2.0/devicecode, /token,
/authorize) and of Google's (/o/oauth2/v2/auth, /token, /device/code), so Broadside's own
endpoint names are what is tested. The user who approves is --user; the test plays that
user at /device (POST user_code) and at the authorization page (approved at once).

Every token issued is logged to --log as a JSON line {grant_type, client_id, user,
access_token, refresh_token}: the tests look for these strings where they must never be."""

import argparse
import json
import os
import secrets
import sys
import threading
import time

# Loopback only: Authlib otherwise insists on https.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint, DeviceCodeGrant, DeviceCredentialDict
from flask import Flask, request, redirect
from werkzeug.serving import make_server

parser = argparse.ArgumentParser()
parser.add_argument("--user", default="office@example.com", help="the account that approves")
parser.add_argument("--lifetime", type=int, default=3600, help="seconds an access token lives")
parser.add_argument("--public-client", action="append", default=[], help="ID: device code, authorization code, refresh")
parser.add_argument("--secret-client", action="append", default=[], help="ID:SECRET: client credentials")
parser.add_argument("--installed-app", action="append", default=[], help="ID:SECRET: authorization code and refresh, the secret posted (Google's installed apps)")
parser.add_argument("--certificate-client", action="append", default=[], help="ID:PUBLIC_KEY_PEM_FILE: client credentials by client assertion")
parser.add_argument("--service-account", action="append", default=[], help="ISSUER:PUBLIC_KEY_PEM_FILE: JWT bearer grant for any subject")
parser.add_argument("--resource", action="append", default=[], help="ID:SECRET allowed to introspect")
parser.add_argument("--log", help="append one JSON line per token issued")
parser.add_argument("--answer-delay", type=float, default=0, help="seconds the token endpoint waits after issuing, before answering")
parser.add_argument("--exit-with-parent", action="store_true")
args = parser.parse_args()

LOCK = threading.Lock()
CLIENTS = {}
TOKENS = {}          # access token or refresh token -> Token
DEVICE_CODES = {}    # device_code -> DeviceCredentialDict
USER_GRANTS = {}     # user_code -> (user, approved)
AUTH_CODES = {}      # code -> dict
SEEN_ASSERTIONS = set()


class Client(ClientMixin):
    def __init__(self, client_id, secret=None, public_key=None, grant_types=(), auth_method="none"):
        self.client_id, self.secret, self.public_key = client_id, secret, public_key
        self.grant_types, self.auth_method = set(grant_types), auth_method

    def get_client_id(self): return self.client_id
    def get_default_redirect_uri(self): return None
    def get_allowed_scope(self, scope): return scope or ""
    def check_client_secret(self, secret): return self.secret is not None and secrets.compare_digest(secret, self.secret)
    def check_endpoint_auth_method(self, method, endpoint): return method == self.auth_method
    def check_response_type(self, response_type): return response_type == "code"
    def check_grant_type(self, grant_type): return grant_type in self.grant_types

    def check_redirect_uri(self, redirect_uri):
        # RFC 8252 7.3: any port on the loopback address.
        return redirect_uri.startswith("http://127.0.0.1:") or redirect_uri.startswith("http://localhost:")


class Token(TokenMixin):
    def __init__(self, data, client_id, user):
        self.data, self.client_id, self.user = data, client_id, user
        self.issued_at, self.revoked = time.time(), False

    def check_client(self, client): return client.get_client_id() == self.client_id
    def get_scope(self): return self.data.get("scope", "")
    def get_expires_in(self): return self.data.get("expires_in", args.lifetime)
    def is_expired(self): return time.time() >= self.issued_at + self.get_expires_in()
    def is_revoked(self): return self.revoked


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
for client_id in args.public_client:
    CLIENTS[client_id] = Client(client_id, grant_types=[DEVICE_GRANT, "authorization_code", "refresh_token"])
for item in args.secret_client:
    client_id, secret = item.split(":", 1)
    CLIENTS[client_id] = Client(client_id, secret=secret, grant_types=["client_credentials"], auth_method="client_secret_post")
for item in args.installed_app:
    client_id, secret = item.split(":", 1)
    CLIENTS[client_id] = Client(client_id, secret=secret, grant_types=["authorization_code", "refresh_token"], auth_method="client_secret_post")
for item in args.certificate_client:
    client_id, path = item.split(":", 1)
    CLIENTS[client_id] = Client(client_id, public_key=open(path).read(), grant_types=["client_credentials"],
                                auth_method=JWTBearerClientAssertion.CLIENT_AUTH_METHOD)
SERVICE_ACCOUNTS = {}
for item in args.service_account:
    issuer, path = item.split(":", 1)
    SERVICE_ACCOUNTS[issuer] = open(path).read()
    CLIENTS[issuer] = Client(issuer, public_key=SERVICE_ACCOUNTS[issuer], grant_types=[JWTBearerGrant.GRANT_TYPE])
for item in args.resource:
    client_id, secret = item.split(":", 1)
    CLIENTS[client_id] = Client(client_id, secret=secret, auth_method="client_secret_basic")


def query_client(client_id):
    return CLIENTS.get(client_id)


def save_token(token, req):
    user = req.user
    client_id = req.client.get_client_id()
    with LOCK:
        record = Token(dict(token), client_id, user)
        TOKENS[token["access_token"]] = record
        if token.get("refresh_token"):
            TOKENS[token["refresh_token"]] = record
    if args.log:
        with open(args.log, "a") as log:
            log.write(json.dumps({"grant_type": req.grant_type, "client_id": client_id, "user": user,
                                  "access_token": token["access_token"], "refresh_token": token.get("refresh_token")}) + "\n")


app = Flask(__name__)
app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {grant: args.lifetime for grant in
                                         ["authorization_code", "client_credentials", "refresh_token", DEVICE_GRANT,
                                          JWTBearerGrant.GRANT_TYPE]}
app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
server = AuthorizationServer(app, query_client=query_client, save_token=save_token)


class DeviceGrant(DeviceCodeGrant):
    def query_device_credential(self, device_code): return DEVICE_CODES.get(device_code)
    def query_user_grant(self, user_code): return USER_GRANTS.get(user_code)
    def should_slow_down(self, credential): return False


class DeviceEndpoint(DeviceAuthorizationEndpoint):
    INTERVAL = 1
    EXPIRES_IN = 120

    def get_verification_uri(self): return request.host_url + "device"

    def save_device_credential(self, client_id, scope, data):
        DEVICE_CODES[data["device_code"]] = DeviceCredentialDict(
            client_id=client_id, scope=scope, user_code=data["user_code"], expires_at=time.time() + self.EXPIRES_IN)


class RefreshGrant(grants.RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"]

    def authenticate_refresh_token(self, refresh_token):
        token = TOKENS.get(refresh_token)
        if token and token.data.get("refresh_token") == refresh_token and not token.revoked:
            return token

    def authenticate_user(self, credential): return credential.user

    def revoke_old_credential(self, credential):
        credential.revoked = True


class ApplicationGrant(grants.ClientCredentialsGrant):
    # Microsoft's apps post their secret in the body, or a client assertion.
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic", JWTBearerClientAssertion.CLIENT_AUTH_METHOD]


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_post"]

    def save_authorization_code(self, code, req):
        AUTH_CODES[code] = {"client_id": req.client_id, "redirect_uri": req.redirect_uri, "scope": req.scope,
                            "user": req.user, "code_challenge": req.data.get("code_challenge"),
                            "code_challenge_method": req.data.get("code_challenge_method")}

    def query_authorization_code(self, code, client):
        item = AUTH_CODES.get(code)
        if item and item["client_id"] == client.get_client_id():
            return AuthorizationCode(code, item)

    def delete_authorization_code(self, authorization_code): AUTH_CODES.pop(authorization_code.code, None)
    def authenticate_user(self, authorization_code): return authorization_code.item["user"]


class AuthorizationCode:
    def __init__(self, code, item):
        self.code, self.item = code, item
        self.code_challenge, self.code_challenge_method = item["code_challenge"], item["code_challenge_method"]

    def get_redirect_uri(self): return self.item["redirect_uri"]
    def get_scope(self): return self.item["scope"]
    def get_code_challenge(self): return self.item["code_challenge"]
    def get_code_challenge_method(self): return self.item["code_challenge_method"]
    def is_expired(self): return False
    def get_auth_time(self): return None
    def get_nonce(self): return None


class CertificateAssertion(JWTBearerClientAssertion):
    def create_claims_options(self):
        # The audience is the token endpoint the assertion was posted to (any tenant's).
        options = super().create_claims_options()
        options["aud"] = {"essential": True, "value": request.base_url}
        return options

    def validate_jti(self, claims, jti):
        with LOCK:
            if jti in SEEN_ASSERTIONS:
                return False
            SEEN_ASSERTIONS.add(jti)
            return True

    def resolve_client_public_key(self, client, headers):
        if not client.public_key:
            raise InvalidClientError()
        return client.public_key


class ServiceAccountGrant(JWTBearerGrant):
    def process_assertion_claims(self, assertion):
        # Google's rules: addressed to this token endpoint, naming the mailbox as subject.
        self.CLAIMS_OPTIONS = dict(JWTBearerGrant.CLAIMS_OPTIONS, aud={"essential": True, "value": request.base_url},
                                   sub={"essential": True}, scope={"essential": True})
        return super().process_assertion_claims(assertion)

    def resolve_issuer_client(self, issuer): return CLIENTS.get(issuer)
    def resolve_client_key(self, client, headers, payload): return SERVICE_ACCOUNTS[client.get_client_id()]
    def authenticate_user(self, subject): return subject
    def has_granted_permission(self, client, user): return True


class Introspection(IntrospectionEndpoint):
    def query_token(self, token, token_type_hint): return TOKENS.get(token)
    def check_permission(self, token, client, req): return True

    def introspect_token(self, token):
        return {"active": True, "client_id": token.client_id, "username": token.user or "", "scope": token.get_scope(),
                "exp": int(token.issued_at + token.get_expires_in())}

    def create_introspection_payload(self, token):
        # Authlib answers inactive for expired and revoked tokens; the access token's own life counts.
        if not token or token.is_expired() or token.is_revoked():
            return {"active": False}
        return self.introspect_token(token)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"]

    def query_token(self, token, token_type_hint): return TOKENS.get(token)
    def revoke_token(self, token, req): token.revoked = True


server.register_grant(DeviceGrant)
server.register_grant(RefreshGrant)
server.register_grant(ApplicationGrant)
server.register_grant(CodeGrant, [CodeChallenge(required=True)])
server.register_grant(ServiceAccountGrant)
server.register_endpoint(DeviceEndpoint)
server.register_endpoint(Introspection)
server.register_endpoint(Revocation)
server.register_client_auth_method(JWTBearerClientAssertion.CLIENT_AUTH_METHOD, CertificateAssertion(None))


@app.post("/<tenant>/oauth2/v2.0/devicecode")
@app.post("/device/code")
def device_code(tenant=None):
    return server.create_endpoint_response(DeviceEndpoint.ENDPOINT_NAME)


@app.post("/<tenant>/oauth2/v2.0/token")
@app.post("/token")
def token(tenant=None):
    response = server.create_token_response()
    # A slow answer: the grant is done (a spent refresh token already revoked) before the client hears of it.
    time.sleep(args.answer_delay)
    return response


@app.get("/<tenant>/oauth2/v2.0/authorize")
@app.get("/o/oauth2/v2/auth")
def authorize(tenant=None):
    # The user is signed in and approves at once.
    return server.create_authorization_response(grant_user=args.user)


@app.route("/device", methods=["GET", "POST"])
def device_page():
    code = request.values.get("user_code", "")
    if request.method == "GET":
        return f"<form method=post><input name=user_code value='{code}'><button>Allow</button></form>"
    if not any(c.get_user_code() == code for c in DEVICE_CODES.values()):
        return "unknown code", 404
    USER_GRANTS[code] = (args.user, request.values.get("deny") is None)
    return "approved"


@app.post("/introspect")
def introspect():
    return server.create_endpoint_response(Introspection.ENDPOINT_NAME)


@app.post("/revoke")
def revoke():
    return server.create_endpoint_response(Revocation.ENDPOINT_NAME)


http = make_server("127.0.0.1", 0, app, threaded=True)
print(f"PORT {http.server_port}", flush=True)
if args.exit_with_parent:
    def watch():
        sys.stdin.read()
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
http.serve_forever()
