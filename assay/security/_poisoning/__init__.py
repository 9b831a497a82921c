"""The four signals of ``security.poisoning``, one module each (private).

- :mod:`.conflicts`: identical rows with different labels;
- :mod:`.slices`: cells (a category or a decile) whose labels look flipped or piled up;
- :mod:`.triggers`: rare values, or pairs of values, tied to one label (backdoors);
- :mod:`.influence`: extreme rows that pull a linear fit towards a label.

Each module measures (numbers from the data), calls the pure verdicts of
:mod:`assay.security._poisoning_judge` (numbers and thresholds in, status out) and
describes (findings in words); :mod:`assay.security.poisoning` registers the check,
runs the four signals and writes the summary. :mod:`.common` holds what several
signals share (the rows searched, the usable columns, the linear design matrix).
"""
