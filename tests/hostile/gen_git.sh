#!/usr/bin/env bash
# gen_git.sh OUTDIR HTTP_BASE STALL_BASE PROXY_BASE — the hostile Git corpus.
#
# Builds bare repositories under OUTDIR/repos/ with git plumbing (hash-object, mktree,
# commit-tree: trees that `git add` would never make) and writes OUTDIR/cases.tsv, one
# line per case, the same columns as gen_artifacts.py:
#     name  url  revision  subpath  expected-code  expected-message-regex
# HTTP_BASE serves OUTDIR/repos over smart HTTP (tests/lib/git_http_server.py),
# STALL_BASE never answers (artifact_server.py /stall-headers), PROXY_BASE forwards to
# HTTP_BASE and stalls in the middle of the pack (stall_proxy.py).
set -euo pipefail
OUT=$1 HTTP=$2 STALL=$3 PROXY=$4
R="$OUT/repos"
mkdir -p "$R"
export GIT_AUTHOR_NAME=smc GIT_AUTHOR_EMAIL=smc@example.invalid GIT_COMMITTER_NAME=smc \
  GIT_COMMITTER_EMAIL=smc@example.invalid GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' \
  GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1 HOME="$OUT"
: >"$OUT/cases.tsv"
n=0

g() { git -C "$repo" "$@"; }
blob() { printf '%s' "$1" | g hash-object -w --stdin; }
# tree LINE... : a tree from "mode type sha<TAB>name" lines (printf escapes allowed)
tree() { printf '%b\n' "$@" | g mktree; }
ok_blob() { blob $'OK=1\n'; }
# new NAME : starts a bare repository, $repo
new() { repo="$R/$1.git"; git init -q --bare "$repo"; g symbolic-ref HEAD refs/heads/main; }
# commit TREE [BRANCH] : commits TREE on BRANCH (main), prints the commit id
commit() { local c; c=$(g commit-tree "$1" -m "case"); g update-ref "refs/heads/${2:-main}" "$c"; echo "$c"; }
# row NAME URL REV SUB CODE REGEX
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/cases.tsv"; n=$((n + 1)); }
# new NAME; case_tree NAME CODE REGEX TREE-LINES... : the repo's main commit has that root
# tree (new first: the lines are computed in the new repository)
case_tree() {
  local name=$1 code=$2 re=$3; shift 3
  commit "$(tree "100644 blob $(ok_blob)\tok.env" "$@")" >/dev/null
  row "$name" "file://$repo" "" "" "$code" "$re"
}
link() { echo "120000 blob $(blob "$1")\t$2"; }
subtree() { echo "040000 tree $1\t$2"; }

# ---- symlinks ----
new symlink_file_abs; case_tree symlink_file_abs PERM "leak.*outside the tree" "$(link /etc/passwd leak)"
new symlink_file_dotdot; case_tree symlink_file_dotdot PERM "outside the tree" "$(link ../../etc/passwd leak)"
new symlink_dir_abs; case_tree symlink_dir_abs PERM "outside the tree" "$(link /etc etc)"
new symlink_dir_parent; case_tree symlink_dir_parent PERM "outside the tree" "$(link .. up)"
new symlink_deep_dotdot; case_tree symlink_deep_dotdot PERM "outside the tree" \
  "$(subtree "$(tree "$(subtree "$(tree "$(link ../../../x leak)")" b)")" a)"
new symlink_chain_escape; case_tree symlink_chain_escape PERM "outside the tree" "$(link b a)" "$(link c b)" "$(link ../out c)"
new symlink_loop; case_tree symlink_loop INVAL "too many levels" "$(link b a)" "$(link a b)"
new symlink_self; case_tree symlink_self INVAL "too many levels" "$(link a a)"
new symlink_dir_loop; case_tree symlink_dir_loop INVAL "loop" "$(subtree "$(tree "$(link .. self)")" d)"
new symlink_dangling; case_tree symlink_dangling NOTFOUND "does not exist" "$(link nothing gone)"
new symlink_long_chain
chain=()
for i in $(seq 0 44); do chain+=("$(link "c$((i + 1))" "c$i")"); done
case_tree symlink_long_chain INVAL "too many levels" "${chain[@]}" "100644 blob $(blob x)\tc45"
new symlink_through_file; case_tree symlink_through_file NOTFOUND "not a directory" "$(link ok.env/x l)"
new symlink_target_too_long; case_tree symlink_target_too_long INVAL "target longer" "$(link "$(head -c 2000 /dev/zero | tr '\0' a)" long)"

# ---- submodules and .git ----
new submodule; case_tree submodule UNSUPPORTED "submodule" "160000 commit 0123456789abcdef0123456789abcdef01234567\tvendor"
new submodule_nested; case_tree submodule_nested UNSUPPORTED "submodule" \
  "$(subtree "$(tree "160000 commit 0123456789abcdef0123456789abcdef01234567\tlib")" deps)"
new symlink_into_submodule; case_tree symlink_into_submodule UNSUPPORTED "submodule" \
  "160000 commit 0123456789abcdef0123456789abcdef01234567\tvendor" "$(link vendor/x l)"
new dotgit_file_in_subdir; case_tree dotgit_file_in_subdir PERM "sub/\\.git.*refused" \
  "$(subtree "$(tree "100644 blob $(blob 'gitdir: ../../x')\t.git")" sub)"
new dotgit_dir_in_subdir; case_tree dotgit_dir_in_subdir PERM "\\.git.*refused" \
  "$(subtree "$(tree "$(subtree "$(tree "100644 blob $(blob '[core]')\tconfig")" .git)")" sub)"
new dotgit_hooks_at_root; case_tree dotgit_hooks_at_root PERM "\\.git.*refused" \
  "$(subtree "$(tree "$(subtree "$(tree "100755 blob $(blob '#!/bin/sh')\tpost-checkout")" hooks)")" .git)"
new dotgit_upper_case; case_tree dotgit_upper_case PERM "\\.GIT.*refused" "100644 blob $(blob x)\t.GIT"
new symlink_into_dotgit; case_tree symlink_into_dotgit PERM "\\.Git.*refused|leads into \\.git" \
  "$(subtree "$(tree "100644 blob $(blob '[core]')\tconfig")" .Git)" "$(link .Git/config l)"

# ---- sizes and shapes (the driver allows a 4 MiB tree: packing big blobs in-process
# takes seconds on a loaded machine) ----
new huge_blob
big=$(head -c $((9 << 20)) /dev/urandom | g hash-object -w --stdin)
commit "$(tree "100644 blob $big\tbig.bin")" >/dev/null
row huge_blob "file://$repo" "" "" TOOBIG "file larger than"
new huge_blob_zeros
big=$(head -c $((64 << 20)) /dev/zero | g hash-object -w --stdin)
commit "$(tree "100644 blob $big\tzeros.bin")" >/dev/null
row huge_blob_zeros "file://$repo" "" "" TOOBIG "file larger than"
new total_over
lines=()
for i in $(seq 0 2); do
  lines+=("100644 blob $(head -c $((3 << 19)) /dev/urandom | g hash-object -w --stdin)\tpart$i.bin")
done
commit "$(tree "${lines[@]}")" >/dev/null
row total_over "file://$repo" "" "" TOOBIG "tree larger than"
new too_many_files
e=$(blob "")
commit "$(for i in $(seq 0 20000); do printf '100644 blob %s\tf%05d\n' "$e" "$i"; done | g mktree)" >/dev/null
row too_many_files "file://$repo" "" "" TOOBIG "more than 20000"
new deep_tree
t=$(tree "100644 blob $(blob x)\tleaf")
for i in $(seq 1 70); do t=$(tree "040000 tree $t\td"); done
commit "$t" >/dev/null
row deep_tree "file://$repo" "" "" TOOBIG "deeper than 64"
new long_path
t=$(tree "100644 blob $(blob x)\tleaf")
for i in $(seq 1 6); do t=$(tree "040000 tree $t\t$(head -c 200 /dev/zero | tr '\0' p)"); done
commit "$t" >/dev/null
row long_path "file://$repo" "" "" TOOBIG "longer than 1024"
new nonutf8_name; case_tree nonutf8_name INVAL "UTF-8" "100644 blob $(blob x)\tbad\xff.env"
new nonutf8_dir; case_tree nonutf8_dir INVAL "UTF-8" "$(subtree "$(tree "100644 blob $(blob x)\tf")" "d\xfe")"

# ---- revisions ----
new refs
c1=$(commit "$(tree "100644 blob $(ok_blob)\tok.env")")
g tag -a -m t v1 "$c1"
g tag blobtag "$(blob 'a blob')"
g tag treetag "$(tree "100644 blob $(ok_blob)\tok.env")"
row ref_missing_branch "file://$repo" "no-such-branch" "" NOTFOUND "no-such-branch not found"
row ref_missing_tag "file://$repo" "v9.9.9" "" NOTFOUND "not found"
row ref_missing_full "file://$repo" "refs/heads/gone" "" NOTFOUND "not found"
row commit_missing "file://$repo" "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef" "" NOTFOUND "not found"
row ref_invalid_name "file://$repo" "refs/heads/..bad" "" INVAL "not a valid ref"
row tag_to_blob "file://$repo" "blobtag" "" INVAL "not a commit"
row tag_to_tree "file://$repo" "treetag" "" INVAL "not a commit"
row revision_non_utf8 "file://$repo" "$(printf 'main\xff')" "" INVAL "UTF-8"
row subpath_dotdot "file://$repo" "" "../.." INVAL "'\\.\\.'"
row subpath_missing "file://$repo" "" "nothing/here" NOTFOUND "not found"
row subpath_is_file "file://$repo" "" "ok.env" INVAL "not a directory"
new subpath_link_escape
commit "$(tree "$(link ../.. env)")" >/dev/null
row subpath_link_escape "file://$repo" "" "env" PERM "outside the tree"
new empty_repo
row empty_repo "file://$repo" "" "" NOTFOUND "HEAD"

# force-pushed history: main rewritten; the old commit is no longer on the server
new force_pushed
old=$(commit "$(tree "100644 blob $(blob 'OLD=1')\told.env")")
commit "$(tree "100644 blob $(blob 'NEW=1')\tnew.env")" >/dev/null   # unrelated history
g reflog expire --expire=now --all && g gc -q --prune=now
row force_pushed_commit_gone "file://$repo" "$old" "" NOTFOUND "not found"

# ---- servers ----
row url_missing_repo "file://$OUT/repos/nothing.git" "" "" IO "cannot fetch"
row url_ssh "git@example.invalid:org/repo.git" "" "" PERM "no SSH private key"
row url_scheme "ftp://127.0.0.1/repo.git" "" "" UNSUPPORTED "not supported"
row http_404 "$STALL/404/repo.git" "" "" IO "cannot fetch"
row http_stall_before_refs "$STALL/stall-headers/repo.git" "" "" TIMEOUT "stalled"
new stall_mid_pack
commit "$(tree "100644 blob $(head -c $((2 << 20)) /dev/urandom | g hash-object -w --stdin)\tpayload.bin")" >/dev/null
g update-server-info
row http_stall_mid_pack "$PROXY/stall_mid_pack.git" "" "" TIMEOUT "stalled"
row http_closed_port "http://127.0.0.1:1/repo.git" "" "" IO "cannot fetch"

chmod -R a+rX "$OUT"
echo "$n cases in $OUT"
