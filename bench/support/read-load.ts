/**
 * A load in a process of its own, so the load generator's own work does not
 * share the measured server's event loop: started by readLoad()
 * (bench/support/load.ts), it runs autocannon for the seconds it is given,
 * or until told "stop", and sends back its figures.
 *
 *   message in:  a LoadRequest, then "stop" if it has no seconds
 *   message out: LoadFigures
 */
import autocannon from "autocannon";
import { figuresOf, loadOptions, type LoadRequest } from "./load";

process.once("message", (request: LoadRequest) => {
  const instance = autocannon(loadOptions(request, request.seconds ?? 3_600), (err, result) => {
    if (err) throw err;
    process.send!(figuresOf(result), () => process.exit(0));
  });
  process.on("message", (message) => {
    if (message === "stop") instance.stop();
  });
});
