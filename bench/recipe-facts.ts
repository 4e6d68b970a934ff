/**
 * bench/recipe.ts with facts: the same resources, the interface taken from the host's default route instead of the
 * lanInterface var. Checked against the same hosts in the same run, it shows what gathering facts costs.
 */
import { include, recipe } from 'keel';
import realserver from './recipe.js';

export default recipe({
  name: 'bench-realserver-facts',
  facts: true,
  vars: realserver.vars,
  resources: (host) =>
    include(realserver, host, { ...host.vars, lanInterface: host.facts.defaultRoute?.interface ?? host.vars.lanInterface }),
});
