/**
 * A load in a process of its own, so the load generator's own work does not
 * share the measured server's event loop: started by readLoad()
 * (bench/support/load.ts), it runs autocannon until told "stop" and sends
 * back its figures.
 *
 *   message in:  a LoadTarget, then "stop"
 *   message out: LoadFigures
 */
import autocannon from "autocannon";
import { figuresOf, loadOptions, type LoadTarget } from "./load";

process.once("message", (target: LoadTarget) => {
  const instance = autocannon(loadOptions(target, 3_600), (err, result) => {
    if (err) throw err;
    process.send!(figuresOf(result), () => process.exit(0));
  });
  process.on("message", (message) => {
    if (message === "stop") instance.stop();
  });
});
