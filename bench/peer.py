"""The peer the connector is measured against: the script a GoTo admin would write by hand.

Pages every account of the profile's GoTo account into JSON Lines on stdout, with nothing else
(no state, no checks, no sandbox):

    python3 bench/peer.py PROFILE_TOML SECRETS_JSON PAGE_SIZE > accounts.jsonl

Standard library only; reads the api-base and token-base of a profile the simulator wrote.
"""
import base64, json, sys, tomllib, urllib.parse, urllib.request

profile = tomllib.load(open(sys.argv[1], "rb"))
secrets = json.load(open(sys.argv[2]))
page_size = int(sys.argv[3])
basic = base64.b64encode(f"{secrets['client-id']}:{secrets['client-secret']}".encode()).decode()
form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": secrets["refresh-token"]})
request = urllib.request.Request(f"{profile['token-base']}/oauth/token", data=form.encode(),
                                 headers={"Authorization": f"Basic {basic}"})
token = json.load(urllib.request.urlopen(request))["access_token"]
api = f"{profile['api-base']}/admin/rest/v1"

def get(path):
    request = urllib.request.Request(f"{api}{path}", headers={"Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(request))

account = get("/me")["accounts"][0]["key"]
out, offset = sys.stdout, 0
while True:
    page = get(f"/accounts/{account}/users?offset={offset}&pageSize={page_size}")
    for user in page["results"]:
        out.write(json.dumps(user) + "\n")
    offset += len(page["results"])
    if not page["results"] or offset >= page["total"]:
        break
