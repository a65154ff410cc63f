#!/bin/bash
# $1 backend, $2 count sequential
b=$1; n=$2
s=$(date +%s%N)
fail=0
for i in $(seq $n); do node cold.mjs $b >/dev/null 2>>err_$b.txt || fail=$((fail+1)); done
e=$(date +%s%N)
echo "$b seq $n: total $(( (e-s)/1000000 ))ms avg $(( (e-s)/1000000/n ))ms fail=$fail"
