"""The exercise checks' words in English (helpers.checks, helpers/exercises/chNN.py).

A section per notebook ("chNN.<exercise>.<what>"), after the texts every check shares
("check."). The same keys and the same {names} as exercises_zh.py (tests/test_i18n.py and
tests/test_exercise_messages.py check it); a text that continues a sentence starts with a space.
"""

MESSAGES = {
    # ---------------------------------------------------------------- every check (checks.py)
    "check.correct": "{name}: correct.",
    "check.not_yet": "{name}: not yet.",
    "check.not_yet_because": "{name}: not yet. {problem}",
    "check.hint": "Hint: {hint}",
    "check.show_solution": "Show a worked solution",
    "check.empty": "It is still empty: replace the ... with your code.",
    "check.equal.expected_got": "Expected {expected}, got {answer}.",
    "check.equal.yours_is": "Yours is {answer}, which is not it.",
    "check.equal.other_type": " It is a {yours}, but the answer is a {right}.",
    "check.equal.one_too_many": " It is one too many: an off-by-one?",
    "check.equal.one_too_few": " It is one too few: an off-by-one?",
    "check.equal.length": " It has {yours} items; the answer has {right}.",
    "check.equal.differs_at": " It first differs at position {position}.",
    "check.as_text.expected_got": " As text: expected {right}, got {yours}.",
    "check.as_text.yours": " As text, yours reads {yours}.",
    "check.as_text.with_space": " The right token starts with a space: ' Rome' and 'Rome' are "
                                "different tokens.",
    "check.as_text.without_space": " The right token has no leading space: ' Rome' and 'Rome' "
                                   "are different tokens.",
    "check.close.a_function": "That is a function; call it to get the number.",
    "check.close.not_numbers": "Expected numbers, got {kind}.",
    "check.close.shape": "Shape {yours} but expected {right}.",
    "check.close.nan": "It contains NaN (not a number): look for 0/0, 0 × log 0 or inf - inf.",
    "check.close.difference": "Largest difference {largest} (allowed {allowed}).",
    "check.factor.ln2": "ln 2 (a natural log where log2 was meant?)",
    "check.factor.one_over_ln2": "1 / ln 2 (log2 where a natural log was meant?)",
    "check.factor.degrees": "180/π (degrees instead of radians?)",
    "check.factor.radians": "π/180 (radians instead of degrees?)",
    "check.likely.sum": " Your values sum to {total}, but a probability distribution sums to 1.",
    "check.likely.whole_turns": " It differs by whole turns of the period (e.g. reduced mod "
                                "2π): the same direction, but not the quantity asked for.",
    "check.likely.reciprocal": " It is the reciprocal of the expected value: the ratio is "
                               "upside down.",
    "check.likely.sign": " The sign is flipped.",
    "check.likely.every_value_times": " Every value is {factor} times the expected one: a "
                                      "missing or extra factor.",
    "check.likely.times": " It is {factor} times the expected value: a missing or extra factor?",
    "check.function.not_a_function": "It should be a function (def ...), got {kind}.",
    "check.function.the_arguments": "the arguments {case}",
    "check.function.raised_known": "{message} (It raised {error}: {detail} for {case}.)",
    "check.function.raised": "It raised {error}: {detail} for {case}.",
    "check.function.empty": "It is still empty: replace the ... in the function with your code.",
    "check.function.none_every_time": "It returned None every time: replace the ... with your "
                                      "code and end the function with return ...",
    "check.function.none": "It returned None: end the function with return ...",
    "check.function.wrong": "Wrong for {case}: yours gives {yours} ({n_wrong} of {n_cases} "
                            "cases wrong).",
    "check.function.wrong_expected": "Wrong for {case}: yours gives {yours}, expected {right} "
                                     "({n_wrong} of {n_cases} cases wrong).",
    # ---------------------------------------------------------------- 00 · The clock
    "ch00.kv_cache_length.name": "KV cache length after tick t",
    "ch00.kv_cache_length.hint": "Tick 0 stores the whole prompt; every later tick adds the one "
                                 "token it was fed.",
    "ch00.kv_cache_length.case": "n_prompt = {n_prompt}, t = {t}",
    "ch00.kv_cache_length.one_too_many": "One too many: the token chosen at tick t has no keys "
                                         "and values yet; they are written at tick t + 1, when "
                                         "it is fed in.",
    "ch00.kv_cache_length.one_too_few": "One too few: tick 0 writes the whole prompt, and every "
                                        "later tick adds the one token it was fed.",
    "ch00.kv_cache_length.no_prompt": "The prompt is missing: tick 0 writes all n_prompt prompt "
                                      "positions.",
    "ch00.kv_cache_length.only_prompt": "The cache does not stay at the prompt: each decode tick "
                                        "adds one position.",
    "ch00.kv_cache_length.five_tokens": "That fits a 5-token prompt only: use n_prompt.",
    "ch00.kv_cache_length.tick_7": "That is tick 7 only: use t.",
    "ch00.entropy.name": "entropy in bits",
    "ch00.entropy.hint": "(probs * probs.log2()) gives p log2 p per token; p = 0 makes "
                         "0 * -inf = nan, so sum with nansum.",
    "ch00.entropy.case": "a distribution of {n} tokens",
    "ch00.entropy.case_with_zeros": "a distribution of {n} tokens with zeros",
    "ch00.entropy.plain_sum": "NaN for a distribution with p = 0: 0 × log2(0) = 0 × (−inf) is "
                              "NaN. A token with p = 0 adds nothing: use nansum, or keep only "
                              "p > 0.",
    "ch00.entropy.nats": "That is in nats: the natural log. Bits need log2.",
    "ch00.entropy.sign": "The sign is flipped: H = −Σ p log2 p is never negative.",
    "ch00.entropy.unweighted": "Each log2 p must be weighted by its p.",
    "ch00.entropy.mean": "That is a mean over tokens; the entropy is a sum.",
    "ch00.three_ticks.name": "three greedy ticks for '{prompt}'",
    "ch00.three_ticks.hint": "Start from ids = list(zh.prompt_ids); each tick append the argmax "
                             "of the last position's logits; keep only what you appended.",
    "ch00.three_ticks.with_prompt": "That includes the prompt: keep only the three ids you "
                                    "appended.",
    "ch00.three_ticks.same_token": "The same token three times: feed each pick back before the "
                                   "next tick.",
    # ---------------------------------------------------------------- 01 · Tokenization
    "ch01.n_bytes.hint": "Turn the text into bytes with .encode('utf-8'), then take len().",
    "ch01.n_bytes.case": "the text {text}",
    "ch01.n_bytes.characters": "That counts characters; a Chinese character takes 3 bytes and "
                               "this emoji 4.",
    "ch01.n_bytes.utf16_bom": "That is UTF-16 with its 2-byte byte-order mark: on 披萨🍕 it "
                              "happens to give the UTF-8 count too, but not on 'pizza'. The "
                              "question is about UTF-8.",
    "ch01.n_bytes.utf16": "That is UTF-16; the question is about UTF-8.",
    "ch01.n_bytes.utf32": "That is UTF-32 (4 bytes for every character); the question is about "
                          "UTF-8.",
    "ch01.n_bytes.gb18030": "That is GB18030, a Chinese encoding (2 bytes per Chinese "
                            "character); the question is about UTF-8.",
    "ch01.n_bytes.three_each": "Not every character is 3 bytes: the emoji takes 4, 'a' takes 1.",
    "ch01.n_bytes.the_bytes": "Those are the bytes themselves: len() counts them.",
    "ch01.n_bytes.cannot_encode": "That encoding cannot write every character (the emoji, or "
                                  "萨): UTF-8 can; use .encode('utf-8').",
    "ch01.my_merge.hint": "Walk with an index i; if ids[i], ids[i+1] is the pair, append new_id "
                          "and jump by 2, else append ids[i] and move by 1.",
    "ch01.my_merge.as_text": "That treats the ids as text: joined into a string, the ids 1256, "
                             "259 contain the characters of the pair (256, 259), so str.replace "
                             "merges across two ids. Real BPE ids are 256 and up, with several "
                             "digits: compare the ids as numbers, pair by pair.",
    "ch01.my_merge.fenced_text": "That treats the ids as text with separators around them: two "
                                 "pairs side by side share a separator, so str.replace misses "
                                 "the second one. Compare the ids as numbers, pair by pair.",
    "ch01.my_merge.overlapping": "After a merge, jump past both ids (i += 2): [5, 5, 5] with the "
                                 "pair (5, 5) gives [7, 5], not two overlapping merges.",
    "ch01.my_merge.drops_the_last": "The last id goes missing: when it is not part of a merged "
                                    "pair, it must still be copied.",
    "ch01.my_merge.value_error": "If you joined the ids into a string: int('') fails on an empty "
                                 "list, and as text 1256, 259 contains the pair (256, 259). "
                                 "Compare the ids as numbers, pair by pair.",
    "ch01.glued.name": "the glued character",
    "ch01.glued.hint": "token_bytes(lm, i) gives the bytes of one token; b\"\".join(...) glues "
                       "bytes together; .decode(\"utf-8\") makes text.",
    "ch01.glued.still_bytes": "Those are still bytes: .decode('utf-8') turns them into text.",
    "ch01.glued.one_by_one": "Decoding each token alone gives '�': join the bytes first, then "
                             "decode once.",
    "ch01.glued.list_of_bytes": "That is a list of each token's bytes: glue them with "
                                "b''.join(...) and decode.",
    "ch01.tokens_per_character.name": "tokens per character",
    "ch01.tokens_per_character.hint": "Divide the number of tokens by the number of characters.",
    "ch01.tokens_per_character.upside_down": "Upside down: that is characters per token.",
    "ch01.tokens_per_character.per_byte": "That is per byte; the question is per character.",
    "ch01.tokens_per_character.bytes_per_character": "That is bytes per character; count tokens.",
    "ch01.tokens_per_character.bytes_per_token": "That is bytes per token; the question is "
                                                 "tokens per character.",
    # ---------------------------------------------------------------- 02 · Embeddings
    "ch02.paris_vector.name": "the vector of {word}",
    "ch02.paris_vector.hint": "The vector of token i is row i of E: E[i].",
    "ch02.paris_vector.next_row": "That is the next row: row i of E is token i (ids count from "
                                  "0).",
    "ch02.paris_vector.row_before": "That is the row before: row i of E is token i.",
    "ch02.paris_vector.no_space": "That is {bare} without the leading space, another token: use "
                                  "the id in `paris`.",
    "ch02.cosine.name": "cosine of ' king' and ' queen'",
    "ch02.cosine.hint": "cos = (a · b) / (|a| × |b|)",
    "ch02.cosine.dot_product": "That is the plain dot product: divide by both lengths.",
    "ch02.cosine.precedence": "Operator precedence: dot / a.norm() * b.norm() divides by |a| and "
                              "then multiplies by |b|. Put the product of the lengths in "
                              "parentheses.",
    "ch02.cosine.one_length": "Divided by one length only: divide by |a| × |b|.",
    "ch02.cosine.squared_lengths": "Divided by the squared lengths: use |a| × |b|.",
    "ch02.cosine.a_dot_a": "Divided by a · a, the squared length: use |a| = a.norm().",
    "ch02.cosine.distance": "That is 1 − cos, the cosine distance.",
    "ch02.rope_angle.name": "RoPE angle of pair {pair} at position {position}",
    "ch02.rope_angle.hint": "Put position = {position} and i = {pair} into the formula of "
                            "section 4; Python writes a power as **.",
    "ch02.rope_angle.pair_0": "That is pair 0, which turns by 1 radian per position: use "
                              "i = {pair}.",
    "ch02.rope_angle.exponent_sign": "The exponent's sign: theta ** (-2 * i / head_dim) makes "
                                     "later pairs turn slower.",
    "ch02.rope_angle.factor_2": "The factor 2 in the exponent is missing: -2 * i / head_dim.",
    "ch02.rope_angle.number_of_pairs": "Divide by head_dim ({head_dim}), not by the number of "
                                       "pairs ({pairs}).",
    "ch02.rope_angle.other_position": "Position {yours}: the query is at position {position}.",
    "ch02.rope_angle.degrees": "That is in degrees; the formula gives radians.",
    "ch02.rope_angle.precedence": "Operator precedence: ** binds tighter than * and /, so "
                                  "theta ** -2 * i / head_dim is (theta ** -2) * i / head_dim. "
                                  "Put the whole exponent in parentheses.",
    # ---------------------------------------------------------------- 03 · Attention
    "ch03.softmax_row.name": "attention weights of one token",
    "ch03.softmax_row.hint": "exp of each score divided by the sum of the exps; exp(-inf) is 0.",
    "ch03.softmax_row.by_the_largest": "Divided by the largest exp; divide by the sum of the "
                                       "exps.",
    "ch03.softmax_row.unmasked": "That softmax also weighs later tokens: start from the masked "
                                 "row, where they are −∞.",
    "ch03.kv_head.hint": "Heads form groups of n_heads // n_kv_heads consecutive heads. Which "
                         "group is the head in? Integer division (//), not %.",
    "ch03.kv_head.case": "head {head} with {n_heads} query heads and {n_kv_heads} kv heads",
    "ch03.kv_head.by_kv_heads": "You divided by the number of kv heads; divide by the group size "
                                "n_heads // n_kv_heads (on SmolLM2 both are 3, elsewhere not).",
    "ch03.kv_head.typed_in": "That is SmolLM2's group size typed in: compute it from n_heads and "
                             "n_kv_heads.",
    "ch03.kv_head.remainder": "The remainder deals heads out in turn (0, 1, 2, 0, ...); heads are "
                              "grouped in consecutive blocks: integer division.",
    "ch03.kv_head.place_in_group": "That is the head's place inside its group, not the group: "
                                   "integer division, not %.",
    "ch03.kv_head.heads_from_0": "Off by one: heads count from 0, so head 0 is in group 0.",
    "ch03.kv_head.kv_heads_from_0": "Off by one: kv heads count from 0.",
    "ch03.kv_head.upside_down": "The group size is n_heads // n_kv_heads, not the other way "
                                "round.",
    "ch03.previous_token_score.name": "previous-token score of layer {layer}, head {head}",
    "ch03.previous_token_score.hint": "offset=-1 (not the main diagonal) gives the T - 1 weights "
                                      "on the token just before; then average them.",
    "ch03.previous_token_score.main_diagonal": "That is the main diagonal (each token on itself): "
                                               "use offset=-1.",
    "ch03.previous_token_score.future": "offset=+1 is above the diagonal, the future, always 0: "
                                        "use offset=-1.",
    "ch03.previous_token_score.sum": "That is the sum; the score is the mean over the T − 1 "
                                     "tokens.",
    "ch03.previous_token_score.by_t": "Divided by T; there are only T − 1 tokens with a token "
                                      "before them.",
    "ch03.previous_token_score.swapped": "Layer and head are swapped: W[layer, head].",
    # ---------------------------------------------------------------- 04 · The forward pass
    "ch04.rms_norm.hint": "x.pow(2).mean(dim=-1, keepdim=True) is each row's mean of squares, "
                          "kept as a column so that the division works row by row.",
    "ch04.rms_norm.case": "vectors of shape {shape} with eps = {eps}",
    "ch04.rms_norm.no_weight": "The learned weight is missing: multiply by weight at the end.",
    "ch04.rms_norm.no_eps": "eps is missing inside the square root: it keeps a tiny vector from "
                            "being blown up (on SmolLM2's vectors it hardly shows; the check "
                            "also tries tiny ones).",
    "ch04.rms_norm.eps_outside": "eps belongs inside the square root: sqrt(mean of squares + "
                                 "eps).",
    "ch04.rms_norm.over_tokens": "You averaged over the tokens (dim 0); average each vector's "
                                 "squares over its own numbers (dim=-1).",
    "ch04.rms_norm.sum": "That divides by the length (sum of squares), not the "
                         "root-mean-square: take the mean.",
    "ch04.rms_norm.no_sqrt": "The square root is missing: divide by sqrt(mean of squares + eps).",
    "ch04.rms_norm.layer_norm": "That is LayerNorm: RMSNorm does not subtract the mean.",
    "ch04.silu.hint": "Multiply z by its own sigmoid, element by element (*, not the matrix "
                      "product @).",
    "ch04.silu.case": "{n} values from {low} to {high}",
    "ch04.silu.sigmoid": "That is the sigmoid alone: multiply it by z.",
    "ch04.silu.relu": "That is ReLU: SiLU is smooth, and slightly negative for negative z.",
    "ch04.silu.sign": "sigmoid(-z): the sign is flipped inside.",
    "ch04.silu.gelu": "That is GELU (GPT-2's activation): close, but SiLU is z · sigmoid(z).",
    "ch04.silu.tanh": "tanh is not the sigmoid: use torch.sigmoid.",
    "ch04.silu.softplus": "That is softplus, log(1 + e^z): SiLU is z · sigmoid(z).",
    "ch04.top_after.name": "top token after n blocks",
    "ch04.top_after.hint": "stream[n, -1] is the last token after n blocks; apply final_norm "
                           "before lm.model.lm_head, then .argmax().",
    "ch04.top_after.no_final_norm": "The final norm is missing: apply final_norm first (its "
                                    "learned gain changes which token wins; dividing by the RMS "
                                    "alone would not).",
    "ch04.top_after.one_more": "Off by one: stream[n] is the vector after n blocks (stream[0] = "
                               "the embeddings).",
    "ch04.top_after.one_less": "Off by one: stream[n] is the vector after n blocks.",
    "ch04.top_after.first_position": "That is the first position; the next token is predicted at "
                                     "the last one: stream[n, -1].",
    "ch04.top_after.last_block": "That is always the last block's prediction: use n.",
    "ch04.share.name": "one write's share of the logit",
    "ch04.share.hint": "Multiply the write by the scale and by the norm's weight, then take the "
                       "dot product with the target's unembedding row.",
    "ch04.share.case": "a write of length {length} with scale {scale}",
    "ch04.share.no_scale": "The frozen scale (1/rms of the final vector) is missing.",
    "ch04.share.no_weight": "The final norm's weight is missing: multiply by it, dimension by "
                            "dimension.",
    "ch04.share.neither": "Both the norm's weight and the frozen scale are missing.",
    "ch04.share.own_rms": "You normalised each write by its own rms: then the shares no longer "
                          "add up. Freeze the scale of the final vector (parts.scale) for every "
                          "write.",
    "ch04.share.divided": "Divided by the scale; it is already 1/rms: multiply.",
    # ---------------------------------------------------------------- 05 · Sampling
    "ch05.softmax_t.hint": "Divide by T, subtract the largest value, exponentiate, divide by the "
                           "sum: exp(z - z.max()) never exceeds 1.",
    "ch05.softmax_t.case": "{n} logits at T = {t}",
    "ch05.softmax_t.in_place": "It changed the logits passed in (z /= T or z -= ... work in "
                               "place): compute new tensors, e.g. scaled = z / T.",
    "ch05.softmax_t.overflow": "Right at T = 0.7, but NaN where the logits are large (exp "
                               "overflows to inf, and inf / inf is NaN) or all very negative "
                               "(every exp is 0, and 0 / 0 is NaN): subtract the maximum before "
                               "exp.",
    "ch05.softmax_t.no_temperature": "The temperature is missing: divide the logits by T first.",
    "ch05.softmax_t.multiplied": "You multiplied by T; temperature divides the logits (T < 1 "
                                 "must sharpen).",
    "ch05.softmax_t.not_normalised": "These are not probabilities yet: divide by their sum (not "
                                     "by the largest) so they add up to 1.",
    "ch05.softmax_t.log_probabilities": "Those are log-probabilities (negative numbers): "
                                        "exponentiate, then normalise.",
    "ch05.top_p_count.name": "tokens kept by top-p {p}",
    "ch05.top_p_count.hint": "next_token_logits(lm, lm.encode_prompt(prompt)), then "
                             "apply_top_p; a removed token has logit −∞, so count the finite "
                             "ones.",
    "ch05.top_p_count.not_whole": "The answer is a number of tokens, a whole number; yours is a "
                                  "{kind}.",
    "ch05.top_p_count.whole_vocabulary": "That is the whole vocabulary: top-p sets the removed "
                                         "logits to −∞, so count only the finite ones "
                                         "(torch.isfinite).",
    "ch05.top_p_count.removed": "You counted the removed tokens (the −∞ ones); count the "
                                "survivors.",
    "ch05.top_p_count.one_too_few": "One too few: top-p also keeps the token that makes the sum "
                                    "reach p (count while the sum is still below p, plus one).",
    "ch05.top_p_count.other_p": "That is what top-p = {other_p} keeps; the exercise asks for "
                                "p = {p}.",
    "ch05.top_p_count.other_prompt": "That is the count after {other}: use exactly {prompt} (a "
                                     "trailing space or another character is another prompt).",
    "ch05.penalised_logit.name": "the penalised logit",
    "ch05.penalised_logit.hint": "Which way must the logit move to make the token less likely? "
                                 "For a negative number, does dividing by {penalty} move it down "
                                 "or up?",
    "ch05.penalised_logit.divided": "You divided. For a negative logit that moves it up, towards "
                                    "0: the token would become more likely, the opposite of a "
                                    "penalty.",
    "ch05.penalised_logit.sign": "The sign is flipped: the logit stays negative and goes further "
                                 "down.",
    "ch05.penalised_logit.sign_and_divided": "The sign is flipped, and dividing a negative logit "
                                             "moves it up.",
    "ch05.penalised_logit.subtracted": "The penalty is a factor, not an amount to subtract.",
    "ch05.penalised_logit.added": "The penalty is a factor, not an amount to add (and adding "
                                  "would make the token more likely).",
    # ---------------------------------------------------------------- 06 · Tick by tick
    "ch06.history": "a history of {n} ticks",
    "ch06.tokens_per_second.name": "decode tokens per second",
    "ch06.tokens_per_second.hint": "Keep the records with phase 'decode'; a tick's time is "
                                   "forward_ms + sampling_ms; a rate is 1000 / milliseconds.",
    "ch06.tokens_per_second.prefill": "The prefill is in: it reads the whole prompt at once, so "
                                      "keep only the decode ticks.",
    "ch06.tokens_per_second.forward_only": "Only the forward pass is counted: a tick is forward + "
                                           "sampling.",
    "ch06.tokens_per_second.ms_per_token": "That is milliseconds per token; tokens per second is "
                                           "1000 divided by it.",
    "ch06.tokens_per_second.mean_of_rates": "That is the mean of each tick's rate; the rate of "
                                            "the mean tick is 1000 / (mean ms).",
    "ch06.tokens_per_second.total_time": "Divided by the total time: that is runs per second; "
                                         "divide by the mean tick time.",
    "ch06.most_uncertain.name": "the most uncertain tick",
    "ch06.most_uncertain.hint": "Each record has .entropy_bits (the uncertainty of that tick's "
                                "raw distribution); Python's max takes a key= function.",
    "ch06.most_uncertain.least_likely": "That is the tick whose chosen token was least likely; "
                                        "uncertainty about the next token is the entropy of the "
                                        "whole distribution (entropy_bits).",
    "ch06.most_uncertain.surprisal": "That is the most surprising chosen token (surprisal); the "
                                     "question is about the whole distribution: entropy_bits.",
    "ch06.most_uncertain.lowest": "That is the lowest entropy: the tick the model was *most* "
                                  "sure about.",
    "ch06.most_uncertain.the_entropy": "That is the highest entropy itself; the answer is the "
                                       "tick's index.",
    "ch06.most_uncertain.whole_record": "That is the whole record; return its .index.",
    "ch06.most_uncertain.an_int": "The answer is a tick number (an int).",
    "ch06.rome_clock.not_a_clock": "Expected a Clock, got {kind}.",
    "ch06.rome_clock.make_one": "Clock(lm, prompt, SamplingConfig(...)) makes one.",
    "ch06.rome_clock.prompt": "The prompt should be {prompt} as plain text (no chat).",
    "ch06.rome_clock.not_run": "No tick has run yet: run the clock.",
    "ch06.rome_clock.sampled": "Tick {tick} was sampled ({config}); the exercise asks for a "
                               "greedy clock, so that every tick after the forced one is the "
                               "model's top choice.",
    "ch06.rome_clock.greedy": "SamplingConfig(temperature=0.0) is greedy.",
    "ch06.rome_clock.forced_later": "Tick 0 was not forced (tick {tick} was forced instead).",
    "ch06.rome_clock.not_forced": "Tick 0 was not forced (no tick was forced).",
    "ch06.rome_clock.force_first": "Call .force(...) before the first tick.",
    "ch06.rome_clock.no_space": "Tick 0 took {token} (id {id}). The space belongs to the token: "
                                "' Rome', not 'Rome'.",
    "ch06.rome_clock.other": "Tick 0 took {token} (id {id}).",
    "ch06.rome_clock.ticks": "{n} ticks ran; the exercise asks for 5 in all, the forced tick 0 "
                             "included.",
    "ch06.rome_clock.differ": "The ticks after the forced one differ from a greedy clock's: was "
                              "a token forced later, or were the settings changed?",
    # ---------------------------------------------------------------- 07 · The KV cache and speed
    "ch07.the_model": "the model",
    "ch07.shape.gpt2": "GPT-2 (no grouping)",
    "ch07.shape.falcon": "Falcon-7B (multi-query)",
    "ch07.model": "{name} ({n_layers} layers, {n_heads} query heads, {n_kv_heads} KV heads of "
                  "size {head_dim})",
    "ch07.kv_cache_bytes.case": "{model}, {tokens} tokens, {bytes_per_number} bytes per number",
    "ch07.kv_cache_bytes.hint": "layers × KV heads × head size × 2 (K and V) × bytes per number "
                                "× tokens, all taken from the model and the arguments.",
    "ch07.kv_cache_bytes.query_heads": "You used every query head (n_heads, or d_model = "
                                       "n_heads × head_dim); only the KV heads have keys and "
                                       "values to cache: n_kv_heads.",
    "ch07.kv_cache_bytes.half": "Half the right size: the cache stores a key AND a value per "
                                "position (× 2).",
    "ch07.kv_cache_bytes.typed_in": "bytes_per_number is ignored ({n} typed in): use the "
                                    "argument.",
    "ch07.kv_cache_bytes.one_layer": "That is one layer's cache: every layer keeps its own "
                                     "(× n_layers).",
    "ch07.kv_cache_bytes.bits": "That is bits, not bytes: bytes_per_number already counts bytes.",
    "ch07.kv_cache_bytes.per_token": "That is the size per token: multiply by the number of "
                                     "tokens.",
    "ch07.kv_cache_bytes.uses_lm": "It uses lm, not the model passed in: write it with "
                                   "model.n_layers, model.n_kv_heads, ...",
    "ch07.times_bigger.hint": "The cache scales with the number of KV heads. Without grouping, "
                              "every query head would be a KV head.",
    "ch07.times_bigger.kv_heads": "That is the number of KV heads. On SmolLM2 it is 3, like the "
                                  "answer, by coincidence; compare the heads with and without "
                                  "grouping instead.",
    "ch07.times_bigger.query_heads": "That is the number of query heads: the cache grows from "
                                     "n_kv_heads to n_heads KV heads; how many times is that?",
    "ch07.times_bigger.upside_down": "The ratio is upside down: without grouping the cache is "
                                     "bigger, so the answer is ≥ 1.",
    "ch07.times_bigger.difference": "That is how many more heads, not how many times more: "
                                    "divide.",
    "ch07.times_bigger.uses_lm": "It uses lm, not the model passed in (or SmolLM2's 3 typed in): "
                                 "use model.n_heads and model.n_kv_heads.",
    "ch07.decode_bounds.fp32": "the float32 bound (tokens/s)",
    "ch07.decode_bounds.fp32_hint": "Every decode tick reads all the weights once: tokens/s ≤ "
                                    "bandwidth / weight_bytes.",
    "ch07.decode_bounds.seconds": "That is seconds per token: the bound in tokens/s is bandwidth "
                                  "/ bytes per token.",
    "ch07.decode_bounds.gib": "20 GB/s means 20 × 10⁹ bytes/s (decimal), not 20 × 2³⁰.",
    "ch07.decode_bounds.one_byte": "That counts one byte per parameter; float32 is 4 bytes "
                                   "(weight_bytes).",
    "ch07.decode_bounds.bits": "That divides by bits: the bandwidth is in bytes per second.",
    "ch07.decode_bounds.4bit": "the 4-bit bound (tokens/s)",
    "ch07.decode_bounds.4bit_hint": "Same bandwidth, 8 times fewer bytes per tick than float32: "
                                    "bandwidth / (n_params × 0.5).",
    "ch07.decode_bounds.fp32_bytes": "weight_bytes is already float32 bytes; half a byte per "
                                     "*parameter* is n_params × 0.5.",
    "ch07.decode_bounds.4_bytes": "4 bits is half a byte, not 4 bytes.",
    "ch07.decode_bounds.q4_1": "That is Q4_1's real 5 bits per weight; the exercise assumes ½ "
                               "byte.",
    "ch07.decode_bounds.divided": "Fewer bytes per tick means *more* ticks per second: multiply.",
    # ---------------------------------------------------------------- 08 · Chat and stopping
    "ch08.chat_text.name": "the chat template by hand",
    "ch08.chat_text.hint": "Each turn is <|im_start|>role, a newline, the text, <|im_end|>, a "
                           "newline; then <|im_start|>assistant and a newline.",
    "ch08.chat_text.case": "user {user}, system {system}",
    "ch08.chat_text.default_system": "Without a system prompt the template adds its default one "
                                     "silently (print the template of a message with no system "
                                     "turn to see it).",
    "ch08.chat_text.no_generation_prompt": "The generation prompt is missing: end with "
                                           "'<|im_start|>assistant\\n' so the model writes the "
                                           "assistant's turn instead of guessing who speaks.",
    "ch08.chat_text.newline_after_end": "A newline follows every <|im_end|> in this template.",
    "ch08.chat_text.system_ignored": "The system prompt you were given is ignored: use it "
                                     "instead of the default one.",
    "ch08.chat_text.newline_after_assistant": "The generation prompt ends with a newline: "
                                              "'<|im_start|>assistant\\n'.",
    "ch08.cut_at_stop.name": "cut at the stop string",
    "ch08.cut_at_stop.hint": "Find where each stop string starts in the text; the earliest one "
                             "ends it.",
    "ch08.cut_at_stop.case": "text {text} and stop strings {stops}",
    "ch08.cut_at_stop.regex": "The stop strings went into a regular expression unescaped: there "
                              "'.' matches any character and '?' or '*' repeat what comes "
                              "before. Use re.escape(s) for each, or plain text.find(s).",
    "ch08.cut_at_stop.first_listed": "It cut at the stop string listed first; cut at the one "
                                     "that occurs first in the text.",
    "ch08.cut_at_stop.keeps_stop": "The stop string itself is kept; cut just before it.",
    "ch08.cut_at_stop.last_one": "It cut at the last occurrence; generation stops at the first.",
    "ch08.cut_at_stop.no_stop": "With no stop string in the text, return the whole text (the "
                                "budget ended it).",
    "ch08.decision.name": "the stopping decision",
    "ch08.decision.hint": "End ids first, then the budget (n_new >= max_new_tokens), else "
                          "'continue'.",
    "ch08.decision.case": "token {token}, {n_new} new tokens of {max_new}, end ids {end_ids}",
    "ch08.decision.off_by_one": "Off by one: after the tick that made the max_new_tokens-th "
                                "token, the budget is used up (n_new >= max_new_tokens).",
    "ch08.decision.budget_first": "When the last token of the budget is also an end token, the "
                                  "end token explains the stop: check the end ids first.",
    "ch08.decision.only_im_end": "Only <|im_end|> (2) ends it here; use end_ids: SmolLM2 also "
                                 "stops at <|endoftext|> (0), and other models have other ids.",
    # ---------------------------------------------------------------- 09 · Scoring a text
    "ch09.logprobs": "log-probabilities {values}",
    "ch09.to_bits.name": "surprisal in bits",
    "ch09.to_bits.hint": "log2 p = ln p / ln 2, and surprisal is minus that.",
    "ch09.to_bits.nats": "Those are nats (natural-log units): divide by ln 2 to count bits.",
    "ch09.to_bits.sign": "The sign is flipped: surprisal is -log2 p, a positive number of bits.",
    "ch09.to_bits.multiplied": "Multiplied by ln 2; log2 p = ln p / ln 2, so divide.",
    "ch09.to_bits.base_10": "That is log base 10 (decimal digits), not bits.",
    "ch09.to_bits.twice": "Converted twice: log2 of exp(lp) is already in bits.",
    "ch09.perplexity.name": "perplexity",
    "ch09.perplexity.hint": "Average the log-probabilities, flip the sign, take exp.",
    "ch09.perplexity.total": "That is exp of the *total*: perplexity uses the mean per token, so "
                             "texts of different lengths compare.",
    "ch09.perplexity.inverse": "That is 1 / perplexity: the sign inside exp is flipped "
                               "(perplexity is at least 1).",
    "ch09.perplexity.power_of_2": "2 to the power of a mean in nats: the log-probabilities are "
                                  "natural logs, so use exp (or convert to bits first).",
    "ch09.perplexity.arithmetic": "That is the mean of 1/p; perplexity is exp of the mean of "
                                  "-log p (a geometric mean, not arithmetic).",
    "ch09.perplexity.one_too_many": "Divided by one token too many: the first token has no "
                                    "score.",
    "ch09.perplexity.loss": "That is the mean negative log-probability (the loss); perplexity is "
                            "exp of it.",
    "ch09.token_logprobs.name": "log-probability of every next token",
    "ch09.token_logprobs.hint": "log_softmax over the vocabulary; row i's score is for "
                                "ids[i + 1] (.gather picks one entry per row).",
    "ch09.token_logprobs.case": "a text of {n} tokens with a vocabulary of {vocab}",
    "ch09.token_logprobs.no_shift": "No shift: row i predicts token i + 1, so pair logits[:-1] "
                                    "with ids[1:].",
    "ch09.token_logprobs.wrong_way": "Shifted the wrong way: row i predicts token i + 1, so drop "
                                     "the *last* row of logits.",
    "ch09.token_logprobs.token_read": "Each row scored the token it *read*; score the token after "
                                      "it: ids[1:].",
    "ch09.token_logprobs.probabilities": "Those are probabilities: take log_softmax, not softmax.",
    "ch09.token_logprobs.raw": "Those are raw logits: normalise with log_softmax first.",
    "ch09.token_logprobs.wrong_dimension": "log_softmax over the wrong dimension: normalise over "
                                           "the vocabulary (dim=-1).",
    "ch09.biggest_jump.name": "the token with the biggest jump in surprisal",
    "ch09.biggest_jump.hint": "error.surprisal_bits - fluent.surprisal_bits, .argmax(), then "
                              "index scored_tokens (not tokens).",
    "ch09.biggest_jump.off_by_one": "Off by one: tokens[0] has no score, so surprisal i belongs "
                                    "to scored_tokens[i] (tokens[i + 1]).",
    "ch09.biggest_jump.error_alone": "That is the most surprising token of the error sentence "
                                     "alone; compare it with the fluent sentence, position by "
                                     "position.",
    "ch09.biggest_jump.argmin": "That is where the error sentence is *least* surprising by "
                                "comparison: argmax, not argmin.",
    "ch09.biggest_jump.position": "That is its position in scored_tokens; the answer is the "
                                  "token itself: index scored_tokens with it.",
    # ---------------------------------------------------------------- 10 · Decoding strategies
    "ch10.beam_score.name": "finished-beam score",
    "ch10.beam_score.hint": "Divide the sum by a power of the length; the length counts new "
                            "tokens only, and the length penalty is the exponent.",
    "ch10.beam_score.case": "sum {total}, {n} new tokens, length_penalty {length_penalty}",
    "ch10.beam_score.no_power": "That divides by the length whatever the length penalty: raise "
                                "the length to the power length_penalty.",
    "ch10.beam_score.multiplied": "Multiplied by length ** length_penalty; beam search divides by "
                                  "it (an average log-prob per token at 1.0).",
    "ch10.beam_score.one_too_many": "One token too many: the length counts the new tokens only "
                                    "(the end token included).",
    "ch10.beam_score.factor": "The penalty is an exponent on the length, not a factor.",
    "ch10.beam_score.on_the_score": "The exponent belongs on the length, not on the score.",
    "ch10.beam_score.sign": "The sign is flipped: log-probabilities are negative and so is the "
                            "score.",
    "ch10.penalties.name": "frequency and presence penalties",
    "ch10.penalties.hint": "Count each id (torch.bincount); the frequency penalty scales with the "
                           "count, the presence penalty only with count > 0.",
    "ch10.penalties.case": "previous ids {previous}, frequency {frequency}, presence {presence}",
    "ch10.penalties.in_place": "It changed the logits passed in (logits[i] -= ... works in "
                               "place): start from a copy, logits.clone(), or build a new tensor.",
    "ch10.penalties.presence_per_occurrence": "The presence penalty is subtracted once per "
                                              "occurrence; it counts only whether the token "
                                              "appeared (count > 0), once.",
    "ch10.penalties.frequency_once": "The frequency penalty is subtracted only once; it grows "
                                     "with the count of the token.",
    "ch10.penalties.added": "The penalties are added; subtract them, so that repeated tokens "
                            "become less likely.",
    "ch10.penalties.divided": "Divided the logits; these penalties subtract a fixed amount "
                              "(dividing is what the repetition penalty does, and it goes the "
                              "wrong way for negative logits).",
    "ch10.penalties.swapped": "frequency and presence are swapped: frequency x count, presence x "
                              "(count > 0).",
    "ch10.top_head.name": "the strongest induction head",
    "ch10.top_head.hint": "flatten().argmax() gives one index into the flattened table; unravel "
                          "it with divmod by the length of a row.",
    "ch10.top_head.case": "a score table of shape {shape}",
    "ch10.top_head.by_layers": "Unravelled with the number of layers; divide by the number of "
                               "heads per layer (the row length, scores.shape[1]).",
    "ch10.top_head.swapped": "(head, layer): the pair is (layer, head).",
    "ch10.top_head.not_a_pair": "Give a pair (layer, head), got {answer}.",
    "ch10.top_head.no_such_head": "There is no layer {layer}, head {head}: the table is "
                                  "{n_layers} layers x {n_heads} heads.",
    "ch10.top_head.lower": "Layer {layer}, head {head} scores {score}; a higher score exists.",
    # ---------------------------------------------------------------- 11 · Faster clocks
    "ch11.accepted_tokens.hint": "Count how many drafts from the left equal the choice at the "
                                 "same index (a while loop), keep those, then append "
                                 "choices[count].",
    "ch11.accepted_tokens.no_own_token": "The model's own token is missing: the pass also gives "
                                         "its choice after the accepted drafts (a correction, or "
                                         "a bonus when all drafts were right).",
    "ch11.accepted_tokens.after_a_wrong_one": "A draft after a wrong one cannot be kept: it was "
                                              "read after a token that will not be in the text. "
                                              "Accept from the left and stop at the first "
                                              "mismatch.",
    "ch11.accepted_tokens.rejected_draft": "After the accepted drafts, the next token is the "
                                           "model's choice, not the rejected draft.",
    "ch11.accepted_tokens.every_choice": "That keeps every choice; only the choices after "
                                         "*accepted* drafts are valid, the rest were computed "
                                         "after a wrong token.",
    "ch11.accepted_tokens.every_draft": "That accepts every draft without checking it against "
                                        "the model's choices.",
    "ch11.passes.hint": "One prefill pass gives the first token; every later pass gives k + 1 "
                        "tokens (round up the last one).",
    "ch11.passes.no_prefill": "The prefill is missing: it is a pass of its own, and it yields "
                              "exactly one token (there is nothing to verify yet).",
    "ch11.passes.k_plus_1": "A pass with k right drafts adds k + 1 tokens: the drafts and the "
                            "model's own token after them.",
    "ch11.passes.round_down": "The last pass may add fewer than k + 1 tokens, but it is still a "
                              "pass: round up (math.ceil), not down.",
    "ch11.passes.neither": "Count the prefill, and k + 1 tokens per later pass.",
    "ch11.passes.plain_greedy": "That is plain greedy: one pass per token. With k right drafts "
                                "per pass there are far fewer.",
    "ch11.block_bytes.hint": "A block holds block_size weights of bits / 8 bytes each, plus "
                             "extra_bytes; divide the block's bytes by block_size.",
    "ch11.block_bytes.no_scales": "The scales are missing: each block also stores extra_bytes "
                                  "(Q4_1: a float16 scale and a float16 minimum), shared by its "
                                  "weights.",
    "ch11.block_bytes.not_shared": "The extra bytes are shared by the whole block: divide them "
                                   "by block_size.",
    "ch11.block_bytes.bits_and_bytes": "Those are bits and bytes mixed: the weights take bits / 8 "
                                       "bytes each.",
    "ch11.block_bytes.typed_in": "32 is typed in: use block_size.",
    "ch11.block_bytes.bits": "That is bits per weight: the question asks for bytes.",
}
