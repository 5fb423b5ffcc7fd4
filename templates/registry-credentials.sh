#!/bin/bash
# Boot functions for registry caches with upstream credentials (templates/bastion-boot.ts renders
# them only when a cache has credentials: EC2 caps user-data at 16 KB and the boot script is its
# largest file). Needs bastion-boot.sh (log, read_secret, put_secret).

# registry_refuses UPSTREAM USERNAME TOKEN prints 401 or 403, and succeeds, when the token server
# of the upstream's Bearer challenge refuses the credentials. Anything else (no Bearer challenge,
# no answer) is not a refusal. The credentials go to curl on stdin, never on its command line.
registry_refuses() {
  local challenge realm service status
  challenge=$(curl -s -o /dev/null -D - --max-time 10 "$1/v2/" | tr -d '\r' | grep -i '^www-authenticate: *bearer ') || return 1
  realm=$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<< "$challenge")
  service=$(sed -n 's/.*service="\([^"]*\)".*/\1/p' <<< "$challenge")
  [ -n "$realm" ] || return 1
  status=$(printf 'user = "%s:%s"\n' "$2" "$3" | curl -s -o /dev/null -w '%{http_code}' --max-time 10 -K - -G --data-urlencode "service=$service" "$realm") || return 1
  case $status in 401 | 403) echo "$status" ;; *) return 1 ;; esac
}

# plain_yaml VALUE: whether YAML reads VALUE back as the same string (a plain scalar of safe characters).
plain_yaml() {
  [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.~+/=-]*$ ]]
}

# write_registry_credentials PARAMETER FILE UPSTREAM: "username:token" as distribution's overrides
# of proxy.username and proxy.password. distribution reads each override as YAML, so both parts
# must be plain_yaml. registry 2.8 turns refused credentials into "manifest unknown" on every pull,
# public images included: credentials the upstream refuses are logged with its answer and left out
# (an empty env file), and the cache pulls anonymously.
write_registry_credentials() {
  local value username token refused
  value=$(read_secret "$1") || return 1
  username=${value%%:*}
  token=${value#*:}
  if [ "$username" = "$value" ] || ! plain_yaml "$username" || ! plain_yaml "$token"; then
    log "SSM parameter $1 must hold username:token, each of letters, digits and _.~+/=- (not starting with .~+/=-); see docs/bastion.md"
    return 1
  fi
  if refused=$(registry_refuses "$3" "$username" "$token"); then
    log "$3 refused the credentials in SSM parameter $1 (HTTP $refused from its token server); its cache pulls anonymously until they are fixed (docs/bastion.md)"
    put_secret "$2" < /dev/null
    return 0
  fi
  printf "%s='%s'\n" REGISTRY_PROXY_USERNAME "$username" REGISTRY_PROXY_PASSWORD "$token" | put_secret "$2"
}
