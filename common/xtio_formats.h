/*
 * The JSON files that xtio's tools hand each other, by the "format" and "version" keys they
 * carry: xtio-analyze's report (docs/analysis.md), xtio-reference's timings (xtio-reference(1)),
 * and the workload's figures that xtio-reference --workload carries in them (docs/ci.md;
 * scripts/workload --out DIR writes one as DIR/cpu.json).
 */
#ifndef XTIO_FORMATS_H
#define XTIO_FORMATS_H

#define XTIO_FORMAT_ANALYSIS          "xtio-analysis"
#define XTIO_FORMAT_ANALYSIS_VERSION  1
#define XTIO_FORMAT_REFERENCE         "xtio-reference"
#define XTIO_FORMAT_REFERENCE_VERSION 1
#define XTIO_FORMAT_WORKLOAD          "xtio-workload"

#endif
