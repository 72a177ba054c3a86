"""练习检查的中文文本（helpers.checks、helpers/exercises/chNN.py）。

每本笔记一节（"chNN.<练习>.<内容>"），前面是所有检查共用的文本（"check."）。键和 {名字} 与
exercises_en.py 完全相同（tests/test_i18n.py、tests/test_exercise_messages.py 会检查）。
术语见 docs/glossary.md；代码里的名字（nansum、n_kv_heads ...）保持原样。
"""

MESSAGES = {
    # ---------------------------------------------------------------- 所有检查共用（checks.py）
    "check.correct": "{name}：正确。",
    "check.not_yet": "{name}：还不对。",
    "check.not_yet_because": "{name}：还不对。{problem}",
    "check.hint": "提示：{hint}",
    "check.show_solution": "查看参考答案",
    "check.empty": "还是空的：把 ... 换成你的代码。",
    "check.equal.expected_got": "应为 {expected}，你的是 {answer}。",
    "check.equal.yours_is": "你的答案是 {answer}，不对。",
    "check.equal.other_type": "它的类型是 {yours}，而答案的类型是 {right}。",
    "check.equal.one_too_many": "多了一个：是不是差一错误？",
    "check.equal.one_too_few": "少了一个：是不是差一错误？",
    "check.equal.length": "它有 {yours} 项；答案有 {right} 项。",
    "check.equal.differs_at": "从位置 {position} 开始不同。",
    "check.as_text.expected_got": "作为文字：应为 {right}，你的是 {yours}。",
    "check.as_text.yours": "作为文字，你的答案是 {yours}。",
    "check.as_text.with_space": "正确的词元以空格开头：' Rome' 和 'Rome' 是两个不同的词元。",
    "check.as_text.without_space": "正确的词元开头没有空格：' Rome' 和 'Rome' 是两个不同的词元。",
    "check.close.a_function": "这是一个函数；调用它才能得到数值。",
    "check.close.not_numbers": "应为数值，你给的是 {kind}。",
    "check.close.shape": "形状是 {yours}，应为 {right}。",
    "check.close.nan": "里面有 NaN（不是数）：找找 0/0、0 × log 0 或 inf - inf。",
    "check.close.difference": "最大差值 {largest}（允许 {allowed}）。",
    "check.factor.ln2": "ln 2（该用 log2 的地方用了自然对数？）",
    "check.factor.one_over_ln2": "1 / ln 2（该用自然对数的地方用了 log2？）",
    "check.factor.degrees": "180/π（用了角度而不是弧度？）",
    "check.factor.radians": "π/180（用了弧度而不是角度？）",
    "check.likely.sum": "你的数值加起来是 {total}，但概率分布的总和是 1。",
    "check.likely.whole_turns": "差了周期的整数倍（比如对 2π 取了模）：方向相同，但不是题目要的量。",
    "check.likely.reciprocal": "这是正确值的倒数：比值颠倒了。",
    "check.likely.sign": "符号反了。",
    "check.likely.every_value_times": "每个值都是正确值的 {factor} 倍：少了或多了一个因子。",
    "check.likely.times": "它是正确值的 {factor} 倍：是不是少了或多了一个因子？",
    "check.function.not_a_function": "这里应该是一个函数（def ...），你给的是 {kind}。",
    "check.function.the_arguments": "参数 {case}",
    "check.function.raised_known": "{message}（用 {case} 检验时抛出了 {error}：“{detail}”。）",
    "check.function.raised": "用 {case} 检验时抛出了 {error}：“{detail}”。",
    "check.function.empty": "还是空的：把函数里的 ... 换成你的代码。",
    "check.function.none_every_time": "每次都返回 None：把 ... 换成你的代码，并在函数末尾写 return ...",
    "check.function.none": "返回了 None：在函数末尾写 return ...",
    "check.function.wrong": "用 {case} 检验时不对：你的结果是 {yours}"
                            "（{n_cases} 个用例中错了 {n_wrong} 个）。",
    "check.function.wrong_expected": "用 {case} 检验时不对：你的结果是 {yours}，应为 {right}"
                                     "（{n_cases} 个用例中错了 {n_wrong} 个）。",
    # ---------------------------------------------------------------- 00 · 时钟
    "ch00.kv_cache_length.name": "第 t 拍之后 KV 缓存的长度",
    "ch00.kv_cache_length.hint": "第 0 拍存下整个提示词；之后每一拍加上它被喂入的那一个词元。",
    "ch00.kv_cache_length.case": "n_prompt = {n_prompt}，t = {t}",
    "ch00.kv_cache_length.one_too_many": "多了一个：第 t 拍选出的词元还没有键和值；"
                                         "要到第 t + 1 拍把它喂进去时才写入。",
    "ch00.kv_cache_length.one_too_few": "少了一个：第 0 拍写入整个提示词，之后每一拍"
                                        "再加上它被喂入的那一个词元。",
    "ch00.kv_cache_length.no_prompt": "漏了提示词：第 0 拍写入全部 n_prompt 个提示词位置。",
    "ch00.kv_cache_length.only_prompt": "缓存不会停在提示词的长度：每个解码步都加一个位置。",
    "ch00.kv_cache_length.five_tokens": "这只适用于 5 个词元的提示词：请用 n_prompt。",
    "ch00.kv_cache_length.tick_7": "这只对第 7 拍成立：请用 t。",
    "ch00.entropy.name": "以比特计的熵",
    "ch00.entropy.hint": "(probs * probs.log2()) 给出每个词元的 p log2 p；p = 0 时 "
                         "0 * -inf = nan，所以用 nansum 求和。",
    "ch00.entropy.case": "一个有 {n} 个词元的分布",
    "ch00.entropy.case_with_zeros": "一个有 {n} 个词元、含有 0 的分布",
    "ch00.entropy.plain_sum": "分布里有 p = 0 时得到 NaN：0 × log2(0) = 0 × (−inf) 是 NaN。"
                              "p = 0 的词元对熵没有贡献：用 nansum，或者只保留 p > 0 的项。",
    "ch00.entropy.nats": "这是以 nat 为单位的（自然对数）。比特要用 log2。",
    "ch00.entropy.sign": "符号反了：H = −Σ p log2 p 永远不会是负数。",
    "ch00.entropy.unweighted": "每个 log2 p 都要乘上它自己的 p 作为权重。",
    "ch00.entropy.mean": "这是对词元取平均；熵是求和。",
    "ch00.three_ticks.name": "“{prompt}”之后的三拍贪心解码",
    "ch00.three_ticks.hint": "从 ids = list(beijing.prompt_ids) 开始；每一拍把最后一个位置的 "
                             "logits 的 argmax 追加进去；最后只保留你追加的部分。",
    "ch00.three_ticks.with_prompt": "这里包含了提示词：只保留你追加的那三个 id。",
    "ch00.three_ticks.same_token": "同一个词元出现了三次：每选出一个，都要先喂回去再算下一拍。",
    # ---------------------------------------------------------------- 01 · 分词
    "ch01.n_bytes.hint": "先用 .encode('utf-8') 把文字变成字节，再取 len()。",
    "ch01.n_bytes.case": "文字 {text}",
    "ch01.n_bytes.characters": "这是在数字符；一个汉字占 3 个字节，这个 emoji 占 4 个。",
    "ch01.n_bytes.utf16_bom": "这是带 2 字节字节序标记（BOM）的 UTF-16：在 披萨🍕 上它碰巧也"
                              "得到 UTF-8 的字节数，但在 'pizza' 上就不对了。题目问的是 UTF-8。",
    "ch01.n_bytes.utf16": "这是 UTF-16；题目问的是 UTF-8。",
    "ch01.n_bytes.utf32": "这是 UTF-32（每个字符 4 个字节）；题目问的是 UTF-8。",
    "ch01.n_bytes.gb18030": "这是 GB18030，一种中文编码（每个汉字 2 个字节）；题目问的是 UTF-8。",
    "ch01.n_bytes.three_each": "不是每个字符都占 3 个字节：emoji 占 4 个，'a' 只占 1 个。",
    "ch01.n_bytes.the_bytes": "这是字节本身：用 len() 数一数它们。",
    "ch01.n_bytes.cannot_encode": "这种编码写不出所有字符（emoji，或者“萨”）：UTF-8 可以；"
                                  "请用 .encode('utf-8')。",
    "ch01.my_merge.hint": "用下标 i 往前走；如果 ids[i]、ids[i+1] 正是这一对，就追加 new_id 并"
                          "前进 2，否则追加 ids[i] 并前进 1。",
    "ch01.my_merge.as_text": "这是把 id 当成文字处理了：拼成字符串以后，id 1256、259 里含有"
                             "这一对 (256, 259) 的字符，于是 str.replace 会跨两个 id 合并。真实的 "
                             "BPE id 从 256 起，都是多位数：请把 id 当作数字，一对一对地比较。",
    "ch01.my_merge.fenced_text": "这是把 id 当成两边带分隔符的文字处理了：相邻的两对共用一个"
                                 "分隔符，所以 str.replace 会漏掉第二对。请把 id 当作数字，一对一对"
                                 "地比较。",
    "ch01.my_merge.overlapping": "合并之后要跳过这两个 id（i += 2）：[5, 5, 5] 按 (5, 5) 合并得到 "
                                 "[7, 5]，而不是两次重叠的合并。",
    "ch01.my_merge.drops_the_last": "最后一个 id 丢了：它不属于被合并的一对时，也必须照抄过去。",
    "ch01.my_merge.value_error": "如果你把 id 拼成了字符串：空列表时 int('') 会出错，而且作为"
                                 "文字，1256、259 里含有这一对 (256, 259)。请把 id 当作数字，"
                                 "一对一对地比较。",
    "ch01.glued.name": "拼起来的字符",
    "ch01.glued.hint": "token_bytes(lm, i) 给出一个词元的字节；b\"\".join(...) 把字节拼在一起；"
                       ".decode(\"utf-8\") 把它变成文字。",
    "ch01.glued.still_bytes": "这还是字节：用 .decode('utf-8') 把它变成文字。",
    "ch01.glued.one_by_one": "每个词元单独解码只会得到 '�'：先把字节拼起来，再一次性解码。",
    "ch01.glued.list_of_bytes": "这是每个词元各自字节组成的列表：用 b''.join(...) 拼起来再解码。",
    "ch01.tokens_per_character.name": "每个字符的词元数",
    "ch01.tokens_per_character.hint": "用词元数除以字符数。",
    "ch01.tokens_per_character.upside_down": "颠倒了：这是每个词元的字符数。",
    "ch01.tokens_per_character.per_byte": "这是按字节算的；题目问的是按字符算。",
    "ch01.tokens_per_character.bytes_per_character": "这是每个字符的字节数；要数的是词元。",
    "ch01.tokens_per_character.bytes_per_token": "这是每个词元的字节数；题目问的是每个字符的"
                                                 "词元数。",
    # ---------------------------------------------------------------- 02 · 嵌入
    "ch02.paris_vector.name": "{word} 的向量",
    "ch02.paris_vector.hint": "词元 i 的向量就是 E 的第 i 行：E[i]。",
    "ch02.paris_vector.next_row": "这是下一行：E 的第 i 行对应词元 i（id 从 0 开始数）。",
    "ch02.paris_vector.row_before": "这是上一行：E 的第 i 行对应词元 i。",
    "ch02.paris_vector.no_space": "这是不带前导空格的 {bare}，是另一个词元：请用 `beijing` 里的 id。",
    "ch02.cosine.name": "“男人”和“女人”的余弦相似度",
    "ch02.cosine.hint": "cos = (a · b) / (|a| × |b|)",
    "ch02.cosine.dot_product": "这只是点积：还要除以两个向量的长度。",
    "ch02.cosine.precedence": "运算符优先级：dot / a.norm() * b.norm() 是先除以 |a|，再乘以 |b|。"
                              "把两个长度的乘积放进括号里。",
    "ch02.cosine.one_length": "只除以了一个长度：要除以 |a| × |b|。",
    "ch02.cosine.squared_lengths": "除以的是长度的平方：请用 |a| × |b|。",
    "ch02.cosine.a_dot_a": "除以的是 a · a，即长度的平方：请用 |a| = a.norm()。",
    "ch02.cosine.distance": "这是 1 − cos，即余弦距离。",
    "ch02.rope_angle.name": "第 {pair} 对在位置 {position} 的 RoPE 转角",
    "ch02.rope_angle.hint": "把 position = {position} 和 i = {pair} 代入 RoPE 那一节的公式；"
                            "Python 用 ** 表示乘方。",
    "ch02.rope_angle.pair_0": "这是第 0 对，它每个位置转 1 弧度：请用 i = {pair}。",
    "ch02.rope_angle.exponent_sign": "指数的符号：theta ** (-2 * i / head_dim) 让越往后的对转得"
                                     "越慢。",
    "ch02.rope_angle.factor_2": "指数里少了因子 2：-2 * i / head_dim。",
    "ch02.rope_angle.number_of_pairs": "要除以 head_dim（{head_dim}），而不是对数（{pairs}）。",
    "ch02.rope_angle.other_position": "这是位置 {yours}：查询在位置 {position}。",
    "ch02.rope_angle.degrees": "这是角度制；公式给出的是弧度。",
    "ch02.rope_angle.precedence": "运算符优先级：** 比 * 和 / 结合得更紧，所以 "
                                  "theta ** -2 * i / head_dim 是 (theta ** -2) * i / head_dim。"
                                  "把整个指数放进括号里。",
    # ---------------------------------------------------------------- 03 · 注意力
    "ch03.softmax_row.name": "一个词元的注意力权重",
    "ch03.softmax_row.hint": "每个分数的 exp 除以所有 exp 之和；exp(-inf) 是 0。",
    "ch03.softmax_row.by_the_largest": "除以的是最大的 exp；要除以所有 exp 之和。",
    "ch03.softmax_row.unmasked": "这个 softmax 把后面的词元也算进去了：要从加了掩码的那一行开始，"
                                 "那里它们是 −∞。",
    "ch03.kv_head.hint": "每 n_heads // n_kv_heads 个相邻的头组成一组。这个头在第几组？用整除"
                         "（//），不是 %。",
    "ch03.kv_head.case": "共 {n_heads} 个查询头、{n_kv_heads} 个 kv 头时的头 {head}",
    "ch03.kv_head.by_kv_heads": "你除以的是 kv 头的个数；要除以组的大小 n_heads // n_kv_heads"
                                "（在 SmolLM2 上两者都是 3，换个模型就不同了）。",
    "ch03.kv_head.typed_in": "这是把 SmolLM2 的组大小直接写成了 3：请用 n_heads 和 n_kv_heads "
                             "算出来。",
    "ch03.kv_head.remainder": "取余是轮流发牌（0, 1, 2, 0, ...）；而头是按连续的块分组的：用整除。",
    "ch03.kv_head.place_in_group": "这是头在组内的位置，不是它属于哪一组：用整除，不是 %。",
    "ch03.kv_head.heads_from_0": "差了一：头从 0 开始数，所以头 0 在第 0 组。",
    "ch03.kv_head.kv_heads_from_0": "差了一：kv 头从 0 开始数。",
    "ch03.kv_head.upside_down": "组的大小是 n_heads // n_kv_heads，不是反过来。",
    "ch03.previous_token_score.name": "第 {layer} 层、头 {head} 的前一词元分数",
    "ch03.previous_token_score.hint": "offset=-1（不是主对角线）给出 T - 1 个落在前一个词元上的"
                                      "权重；再对它们取平均。",
    "ch03.previous_token_score.main_diagonal": "这是主对角线（每个词元看自己）：请用 offset=-1。",
    "ch03.previous_token_score.future": "offset=+1 在对角线上方，是未来，永远是 0：请用 "
                                        "offset=-1。",
    "ch03.previous_token_score.sum": "这是求和；分数是对 T − 1 个词元取平均。",
    "ch03.previous_token_score.by_t": "除以的是 T；只有 T − 1 个词元前面有词元。",
    "ch03.previous_token_score.swapped": "层和头颠倒了：W[layer, head]。",
    # ---------------------------------------------------------------- 04 · 前向计算
    "ch04.rms_norm.hint": "x.pow(2).mean(dim=-1, keepdim=True) 是每一行的平方均值，保留成一列，"
                          "这样除法就会逐行进行。",
    "ch04.rms_norm.case": "形状为 {shape}、eps = {eps} 的向量",
    "ch04.rms_norm.no_weight": "少了学到的权重：最后要乘以 `weight`。",
    "ch04.rms_norm.no_eps": "平方根里少了 eps：它防止很小的向量被放得过大（在模型的真实向量上"
                            "几乎看不出来；检查时也会试很小的向量）。",
    "ch04.rms_norm.eps_outside": "eps 应该放在平方根里面：sqrt(平方均值 + eps)。",
    "ch04.rms_norm.over_tokens": "你是对词元取的平均（dim=0）；要对每个向量自己的数取平方均值"
                                 "（dim=-1）。",
    "ch04.rms_norm.sum": "这是除以长度（平方和），不是均方根：要取平均。",
    "ch04.rms_norm.no_sqrt": "少了平方根：要除以 sqrt(平方均值 + eps)。",
    "ch04.rms_norm.layer_norm": "这是 LayerNorm：RMSNorm 不减去均值。",
    "ch04.silu.hint": "把 z 和它自己的 sigmoid 逐元素相乘（用 *，不是矩阵乘法 @）。",
    "ch04.silu.case": "从 {low} 到 {high} 的 {n} 个值",
    "ch04.silu.sigmoid": "这只是 sigmoid：还要乘以 z。",
    "ch04.silu.relu": "这是 ReLU：SiLU 是光滑的，z 为负时它略小于 0。",
    "ch04.silu.sign": "sigmoid(-z)：里面的符号反了。",
    "ch04.silu.gelu": "这是 GELU（GPT-2 的激活函数）：很接近，但 SiLU 是 z · sigmoid(z)。",
    "ch04.silu.tanh": "tanh 不是 sigmoid：请用 torch.sigmoid。",
    "ch04.silu.softplus": "这是 softplus，即 log(1 + e^z)：SiLU 是 z · sigmoid(z)。",
    "ch04.top_after.name": "经过 n 个块之后排第一的词元",
    "ch04.top_after.hint": "stream[n, -1] 是经过 n 个块之后最后一个词元的向量；先用 final_norm，"
                           "再用 lm.model.lm_head，然后 .argmax()。",
    "ch04.top_after.no_final_norm": "少了最终归一化：先用 final_norm（它学到的增益会改变哪个"
                                    "词元胜出；只除以 RMS 做不到）。",
    "ch04.top_after.one_more": "差了一：stream[n] 是经过 n 个块之后的向量（stream[0] 是嵌入）。",
    "ch04.top_after.one_less": "差了一：stream[n] 是经过 n 个块之后的向量。",
    "ch04.top_after.first_position": "这是第一个位置；下一个词元是在最后一个位置预测的："
                                     "stream[n, -1]。",
    "ch04.top_after.last_block": "这永远是最后一个块的预测：请用 n。",
    "ch04.share.name": "一次写入在 logit 中所占的份额",
    "ch04.share.hint": "把这次写入乘以缩放系数和归一化的权重，再与目标词元的反嵌入行做点积。",
    "ch04.share.case": "长度为 {length}、缩放系数为 {scale} 的一次写入",
    "ch04.share.no_scale": "少了冻结的缩放系数（最终向量的 1/rms）。",
    "ch04.share.no_weight": "少了最终归一化的权重：要逐维乘上它。",
    "ch04.share.neither": "归一化的权重和冻结的缩放系数都少了。",
    "ch04.share.own_rms": "你用每次写入自己的 rms 去归一化了：这样各份额加起来就不等于总数了。"
                          "对每次写入都用最终向量冻结的缩放系数（parts.scale）。",
    "ch04.share.divided": "除以了缩放系数；它本身已经是 1/rms：要乘。",
    # ---------------------------------------------------------------- 05 · 采样
    "ch05.softmax_t.hint": "先除以 T，减去最大值，取 exp，再除以总和：exp(z - z.max()) 永远不会"
                           "超过 1。",
    "ch05.softmax_t.case": "T = {t} 时的 {n} 个 logits",
    "ch05.softmax_t.in_place": "它改动了传进来的 logits（z /= T 或 z -= ... 是原地修改）："
                               "请计算新的张量，例如 scaled = z / T。",
    "ch05.softmax_t.overflow": "在 T = 0.7 时是对的，但 logits 很大时（exp 溢出成 inf，"
                               "inf / inf 是 NaN）或全都很负时（每个 exp 都是 0，0 / 0 是 NaN）"
                               "会得到 NaN：取 exp 之前先减去最大值。",
    "ch05.softmax_t.no_temperature": "少了温度：先把 logits 除以 T。",
    "ch05.softmax_t.multiplied": "你乘以了 T；温度是用来除 logits 的（T < 1 应该让分布更尖锐）。",
    "ch05.softmax_t.not_normalised": "这些还不是概率：要除以它们的总和（不是最大值），"
                                     "这样加起来才是 1。",
    "ch05.softmax_t.log_probabilities": "这些是对数概率（负数）：先取 exp，再归一化。",
    "ch05.top_p_count.name": "top-p = {p} 保留的词元数",
    "ch05.top_p_count.hint": "先 next_token_logits(lm, lm.encode_prompt(prompt))，再 "
                             "apply_top_p；被去掉的词元 logit 是 −∞，所以数有限值的个数。",
    "ch05.top_p_count.not_whole": "答案是词元的个数，一个整数；你的是 {kind}。",
    "ch05.top_p_count.whole_vocabulary": "这是整个词表：top-p 把去掉的 logits 设成 −∞，"
                                         "所以只数有限的那些（torch.isfinite）。",
    "ch05.top_p_count.removed": "你数的是被去掉的词元（−∞ 的那些）；要数留下来的。",
    "ch05.top_p_count.one_too_few": "少了一个：top-p 也会保留让累计和达到 p 的那个词元"
                                    "（累计和还小于 p 时一直数，再加一）。",
    "ch05.top_p_count.other_p": "这是 top-p = {other_p} 保留的个数；练习问的是 p = {p}。",
    "ch05.top_p_count.other_prompt": "这是 {other} 之后的个数：请一字不差地用 {prompt}"
                                     "（多一个空格或换一个字符就是另一个提示词）。",
    "ch05.penalised_logit.name": "惩罚后的 logit",
    "ch05.penalised_logit.hint": "要让这个词元更不可能出现，logit 应该往哪边移？对一个负数，"
                                 "除以 {penalty} 是让它变小还是变大？",
    "ch05.penalised_logit.divided": "你用了除法。对负的 logit，这会让它往上移、靠近 0：这个词元"
                                    "反而更可能出现，和惩罚正相反。",
    "ch05.penalised_logit.sign": "符号反了：logit 仍然是负的，而且要往更低处走。",
    "ch05.penalised_logit.sign_and_divided": "符号反了，而且负的 logit 除以系数会往上移。",
    "ch05.penalised_logit.subtracted": "惩罚是一个系数，不是要减去的量。",
    "ch05.penalised_logit.added": "惩罚是一个系数，不是要加上的量（而且加上会让这个词元更可能"
                                  "出现）。",
    # ---------------------------------------------------------------- 06 · 一拍一拍
    "ch06.history": "一段 {n} 拍的记录",
    "ch06.tokens_per_second.name": "解码阶段的每秒词元数",
    "ch06.tokens_per_second.hint": "只保留 phase == 'decode' 的记录；一拍的时间是 "
                                   "forward_ms + sampling_ms；速率是 1000 / 毫秒数。",
    "ch06.tokens_per_second.prefill": "把预填充也算进去了：它一次读完整个提示词，所以只保留"
                                      "解码步。",
    "ch06.tokens_per_second.forward_only": "只算了前向计算：一拍是前向计算 + 采样。",
    "ch06.tokens_per_second.ms_per_token": "这是每个词元的毫秒数；每秒词元数是 1000 除以它。",
    "ch06.tokens_per_second.mean_of_rates": "这是每一拍速率的平均值；平均一拍的速率是 "
                                            "1000 / (平均毫秒数)。",
    "ch06.tokens_per_second.total_time": "除以的是总时间：那是每秒跑完几整轮；要除以一拍的平均"
                                         "时间。",
    "ch06.most_uncertain.name": "最不确定的一拍",
    "ch06.most_uncertain.hint": "每条记录都有 .entropy_bits（这一拍原始分布的不确定性）；"
                                "Python 的 max() 可以传一个 key= 函数。",
    "ch06.most_uncertain.least_likely": "这是选中的词元概率最低的那一拍；对下一个词元的不确定性"
                                        "是整个分布的熵（entropy_bits）。",
    "ch06.most_uncertain.surprisal": "这是最出人意料的那个选中词元（惊异度）；题目问的是整个"
                                     "分布：entropy_bits。",
    "ch06.most_uncertain.lowest": "这是熵最低的一拍：模型*最*有把握的那一拍。",
    "ch06.most_uncertain.the_entropy": "这是最高的熵本身；答案是那一拍的序号。",
    "ch06.most_uncertain.whole_record": "这是整条记录；请返回它的 .index。",
    "ch06.most_uncertain.an_int": "答案是拍的序号（一个 int）。",
    "ch06.rome_clock.not_a_clock": "应为一个 Clock，你给的是 {kind}。",
    "ch06.rome_clock.make_one": "用 Clock(lm, prompt, SamplingConfig(...)) 创建一个。",
    "ch06.rome_clock.prompt": "提示词应该是纯文本的 {prompt}（不用对话模板）。",
    "ch06.rome_clock.not_run": "还没有运行任何一拍：让时钟跑起来。",
    "ch06.rome_clock.sampled": "第 {tick} 拍是采样出来的（{config}）；练习要的是贪心时钟，"
                               "这样强制指定之后的每一拍都是模型的首选。",
    "ch06.rome_clock.greedy": "SamplingConfig(temperature=0.0) 就是贪心。",
    "ch06.rome_clock.forced_later": "第 0 拍没有强制指定（强制指定的是第 {tick} 拍）。",
    "ch06.rome_clock.not_forced": "第 0 拍没有强制指定（没有任何一拍被强制指定）。",
    "ch06.rome_clock.force_first": "在第一拍之前调用 .force(...)。",
    "ch06.rome_clock.no_space": "第 0 拍选的是 {token}（id {id}）。空格属于这个词元："
                                "是 ' Rome'，不是 'Rome'。",
    "ch06.rome_clock.other": "第 0 拍选的是 {token}（id {id}）。",
    "ch06.rome_clock.ticks": "运行了 {n} 拍；练习要求一共 5 拍，包括强制指定的第 0 拍。",
    "ch06.rome_clock.differ": "强制指定之后的几拍和贪心时钟的不一样：是不是后面又强制指定了"
                              "词元，或者改了设置？",
    # ---------------------------------------------------------------- 07 · KV 缓存与速度
    "ch07.the_model": "该模型",
    "ch07.shape.gpt2": "GPT-2（不分组）",
    "ch07.shape.falcon": "Falcon-7B（多查询）",
    "ch07.model": "{name}（{n_layers} 层，{n_heads} 个查询头，{n_kv_heads} 个 KV 头，每个头 "
                  "{head_dim} 维）",
    "ch07.kv_cache_bytes.case": "{model}，{tokens} 个词元，每个数 {bytes_per_number} 个字节",
    "ch07.kv_cache_bytes.hint": "层数 × KV 头数 × 头的维度 × 2（K 和 V）× 每个数的字节数 × "
                                "词元数，全部取自模型和参数。",
    "ch07.kv_cache_bytes.query_heads": "你用了全部查询头（n_heads，或 d_model = n_heads × "
                                       "head_dim）；只有 KV 头才有要缓存的键和值：n_kv_heads。",
    "ch07.kv_cache_bytes.half": "只有正确大小的一半：缓存在每个位置既存一个键，又存一个值"
                                "（× 2）。",
    "ch07.kv_cache_bytes.typed_in": "忽略了 bytes_per_number（直接写了 {n}）：请用这个参数。",
    "ch07.kv_cache_bytes.one_layer": "这是一层的缓存：每一层都有自己的缓存（× n_layers）。",
    "ch07.kv_cache_bytes.bits": "这是比特数，不是字节数：bytes_per_number 已经是按字节算的。",
    "ch07.kv_cache_bytes.per_token": "这是每个词元的大小：还要乘以词元数。",
    "ch07.kv_cache_bytes.uses_lm": "它用的是 lm，而不是传进来的模型：请用 model.n_layers、"
                                   "model.n_kv_heads ... 来写。",
    "ch07.times_bigger.hint": "缓存的大小与 KV 头的个数成正比。不分组的话，每个查询头都会是一个 "
                              "KV 头。",
    "ch07.times_bigger.kv_heads": "这是 KV 头的个数。在 SmolLM2 上它是 3，碰巧和答案一样；"
                                  "应该比较分组和不分组时头的个数。",
    "ch07.times_bigger.query_heads": "这是查询头的个数：缓存从 n_kv_heads 个 KV 头变成 n_heads "
                                     "个，是原来的几倍？",
    "ch07.times_bigger.upside_down": "比值颠倒了：不分组时缓存更大，所以答案 ≥ 1。",
    "ch07.times_bigger.difference": "这是多了几个头，不是大了几倍：要用除法。",
    "ch07.times_bigger.uses_lm": "它用的是 lm，而不是传进来的模型（或者直接写了 SmolLM2 的 3）："
                                 "请用 model.n_heads 和 model.n_kv_heads。",
    "ch07.decode_bounds.fp32": "float32 的上限（tokens/s）",
    "ch07.decode_bounds.fp32_hint": "每个解码步都要把全部权重读一遍：tokens/s ≤ 带宽 / "
                                    "weight_bytes。",
    "ch07.decode_bounds.seconds": "这是每个词元的秒数：以 tokens/s 计的上限是 带宽 / 每个词元"
                                  "要读的字节数。",
    "ch07.decode_bounds.gib": "20 GB/s 指的是每秒 20 × 10⁹ 个字节（十进制），不是 20 × 2³⁰。",
    "ch07.decode_bounds.one_byte": "这是按每个参数 1 个字节算的；float32 是 4 个字节"
                                   "（weight_bytes）。",
    "ch07.decode_bounds.bits": "这是除以了比特数：带宽的单位是每秒字节数。",
    "ch07.decode_bounds.4bit": "4 比特的上限（tokens/s）",
    "ch07.decode_bounds.4bit_hint": "带宽相同，每一拍要读的字节比 float32 少 8 倍："
                                    "带宽 / (n_params × 0.5)。",
    "ch07.decode_bounds.fp32_bytes": "weight_bytes 已经是 float32 的字节数；每个*参数*半个字节"
                                     "是 n_params × 0.5。",
    "ch07.decode_bounds.4_bytes": "4 比特是半个字节，不是 4 个字节。",
    "ch07.decode_bounds.q4_1": "这是 Q4_1 实际的每个权重 5 比特；练习假设的是 ½ 个字节。",
    "ch07.decode_bounds.divided": "每一拍读的字节更少，意味着每秒能跑*更多*拍：要用乘法。",
    # ---------------------------------------------------------------- 08 · 对话与停止
    "ch08.chat_text.name": "手写对话模板",
    "ch08.chat_text.hint": "每一轮是 <|im_start|> 加角色、一个换行、文本、<|im_end|>、一个换行；"
                           "最后是 <|im_start|>assistant 加一个换行。",
    "ch08.chat_text.case": "用户 {user}，系统 {system}",
    "ch08.chat_text.default_system": "没有系统提示词时，模板会悄悄加上它默认的那一个（打印一条"
                                     "没有系统轮次的消息的模板就能看到）。",
    "ch08.chat_text.no_generation_prompt": "少了生成提示：要以 '<|im_start|>assistant\\n' 结尾，"
                                           "这样模型会写助手的那一轮，而不是去猜谁在说话。",
    "ch08.chat_text.newline_after_end": "在这个模板里，每个 <|im_end|> 后面都跟一个换行。",
    "ch08.chat_text.system_ignored": "忽略了给你的系统提示词：要用它，而不是默认的那一个。",
    "ch08.chat_text.newline_after_assistant": "生成提示以换行结尾：'<|im_start|>assistant\\n'。",
    "ch08.cut_at_stop.name": "在停止字符串处截断",
    "ch08.cut_at_stop.hint": "找出每个停止字符串在文本中开始的位置；最早出现的那个结束生成。",
    "ch08.cut_at_stop.case": "文本 {text} 和停止字符串 {stops}",
    "ch08.cut_at_stop.regex": "停止字符串未经转义就放进了正则表达式：在那里 '.' 匹配任意字符，"
                              "'?' 或 '*' 会重复前面的内容。对每个字符串用 re.escape(s)，或者直接"
                              "用 text.find(s)。",
    "ch08.cut_at_stop.first_listed": "它在列表里排第一的停止字符串处截断了；要在文本里最先出现的"
                                     "那个处截断。",
    "ch08.cut_at_stop.keeps_stop": "停止字符串本身被保留了；要在它前面截断。",
    "ch08.cut_at_stop.last_one": "它在最后一次出现处截断了；生成在第一次出现时就停止。",
    "ch08.cut_at_stop.no_stop": "文本里没有停止字符串时，返回整段文本（是预算让它结束的）。",
    "ch08.decision.name": "停止判断",
    "ch08.decision.hint": "先看结束 id，再看预算（n_new >= max_new_tokens），否则 'continue'。",
    "ch08.decision.case": "词元 {token}，已生成 {n_new} 个（上限 {max_new}），结束 id {end_ids}",
    "ch08.decision.off_by_one": "差了一：生成第 max_new_tokens 个词元的那一拍之后，预算就用完了"
                                "（n_new >= max_new_tokens）。",
    "ch08.decision.budget_first": "预算内的最后一个词元同时也是结束词元时，停止的原因是结束词元："
                                  "先检查结束 id。",
    "ch08.decision.only_im_end": "这里只有 <|im_end|>（2）会结束；请用 end_ids：SmolLM2 遇到 "
                                 "<|endoftext|>（0）也会停止，其他模型的 id 又不一样。",
    # ---------------------------------------------------------------- 09 · 给文本打分
    "ch09.logprobs": "对数概率 {values}",
    "ch09.to_bits.name": "以比特计的惊异度",
    "ch09.to_bits.hint": "log2 p = ln p / ln 2，惊异度是它的相反数。",
    "ch09.to_bits.nats": "这是以 nat 为单位的（自然对数）：除以 ln 2 才是比特。",
    "ch09.to_bits.sign": "符号反了：惊异度是 -log2 p，是一个正的比特数。",
    "ch09.to_bits.multiplied": "乘以了 ln 2；log2 p = ln p / ln 2，所以要除。",
    "ch09.to_bits.base_10": "这是以 10 为底的对数（十进制位数），不是比特。",
    "ch09.to_bits.twice": "换算了两次：exp(lp) 的 log2 已经是比特了。",
    "ch09.perplexity.name": "困惑度",
    "ch09.perplexity.hint": "对对数概率取平均，变号，再取 exp。",
    "ch09.perplexity.total": "这是*总和*的 exp：困惑度用的是每个词元的平均值，这样长度不同的"
                             "文本才能比较。",
    "ch09.perplexity.inverse": "这是 1 / 困惑度：exp 里的符号反了（困惑度至少是 1）。",
    "ch09.perplexity.power_of_2": "用 2 的幂去算一个以 nat 为单位的平均值：对数概率是自然对数，"
                                  "所以用 exp（或者先换算成比特）。",
    "ch09.perplexity.arithmetic": "这是 1/p 的平均值；困惑度是 -log p 平均值的 exp（几何平均，"
                                  "不是算术平均）。",
    "ch09.perplexity.one_too_many": "多除了一个词元：第一个词元没有分数。",
    "ch09.perplexity.loss": "这是负对数概率的平均值（损失）；困惑度是它的 exp。",
    "ch09.token_logprobs.name": "每个下一个词元的对数概率",
    "ch09.token_logprobs.hint": "在词表上做 log_softmax；第 i 行的分数属于 ids[i + 1]"
                                "（.gather 每行取一个值）。",
    "ch09.token_logprobs.case": "一段 {n} 个词元、词表大小为 {vocab} 的文本",
    "ch09.token_logprobs.no_shift": "没有错位：第 i 行预测的是词元 i + 1，所以要把 logits[:-1] "
                                    "和 ids[1:] 配对。",
    "ch09.token_logprobs.wrong_way": "错位方向反了：第 i 行预测的是词元 i + 1，所以要去掉 logits "
                                     "的*最后*一行。",
    "ch09.token_logprobs.token_read": "每一行打分的是它*读入*的词元；要给它后面的那个词元打分："
                                      "ids[1:]。",
    "ch09.token_logprobs.probabilities": "这些是概率：要用 log_softmax，不是 softmax。",
    "ch09.token_logprobs.raw": "这些是原始的 logits：先用 log_softmax 归一化。",
    "ch09.token_logprobs.wrong_dimension": "log_softmax 用错了维度：要在词表上归一化"
                                           "（dim=-1）。",
    "ch09.biggest_jump.name": "惊异度跳得最高的词元",
    "ch09.biggest_jump.hint": "scored[\"事实错误\"].surprisal_bits - "
                              "scored[\"通顺\"].surprisal_bits，.argmax()，然后去索引 "
                              "scored_tokens（不是 .tokens）。",
    "ch09.biggest_jump.off_by_one": "差了一：tokens[0] 没有分数，所以第 i 个惊异度属于 "
                                    "scored_tokens[i]（即 tokens[i + 1]）。",
    "ch09.biggest_jump.error_alone": "这只是错误句子里最出人意料的词元；要逐个位置和通顺的句子"
                                     "比较。",
    "ch09.biggest_jump.argmin": "这是错误句子相比之下*最不*出人意料的地方：要用 argmax，不是 "
                                "argmin。",
    "ch09.biggest_jump.position": "这是它在 scored_tokens 里的位置；答案是词元本身：用它去索引 "
                                  "scored_tokens。",
    # ---------------------------------------------------------------- 10 · 解码策略
    "ch10.beam_score.name": "已完成的束的得分",
    "ch10.beam_score.hint": "用总和除以长度的幂；长度只数新生成的词元，长度惩罚是指数。",
    "ch10.beam_score.case": "总和 {total}，{n} 个新词元，length_penalty {length_penalty}",
    "ch10.beam_score.no_power": "不管长度惩罚是多少都除以长度：要把长度取 length_penalty 次幂。",
    "ch10.beam_score.multiplied": "乘以了 length ** length_penalty；束搜索是除以它（为 1.0 时"
                                  "就是每个词元的平均对数概率）。",
    "ch10.beam_score.one_too_many": "多算了一个词元：长度只数新生成的词元（包括结束词元）。",
    "ch10.beam_score.factor": "惩罚是长度的指数，不是一个系数。",
    "ch10.beam_score.on_the_score": "指数应该加在长度上，而不是得分上。",
    "ch10.beam_score.sign": "符号反了：对数概率是负的，得分也是负的。",
    "ch10.penalties.name": "频率惩罚和存在惩罚",
    "ch10.penalties.hint": "数出每个 id 出现的次数（torch.bincount）；频率惩罚随次数增长，存在"
                           "惩罚只看 count > 0。",
    "ch10.penalties.case": "之前的 id {previous}，频率惩罚 {frequency}，存在惩罚 {presence}",
    "ch10.penalties.in_place": "它改动了传进来的 logits（logits[i] -= ... 是原地修改）：先复制"
                               "一份 logits.clone()，或者构造一个新的张量。",
    "ch10.penalties.presence_per_occurrence": "存在惩罚按出现次数减了多次；它只看这个词元是否"
                                              "出现过（count > 0），只减一次。",
    "ch10.penalties.frequency_once": "频率惩罚只减了一次；它应该随这个词元出现的次数增长。",
    "ch10.penalties.added": "惩罚被加上去了；要减去，这样重复的词元才会变得更不可能。",
    "ch10.penalties.divided": "对 logits 做了除法；这两种惩罚是减去一个固定的量（除法是重复"
                              "惩罚的做法，而且对负的 logits 方向是反的）。",
    "ch10.penalties.swapped": "频率惩罚和存在惩罚弄反了：频率惩罚 × 次数，存在惩罚 × "
                              "(count > 0)。",
    "ch10.top_head.name": "最强的归纳头",
    "ch10.top_head.hint": "flatten().argmax() 给出展平后表格里的一个下标；用 divmod 除以一行的"
                          "长度把它还原。",
    "ch10.top_head.case": "形状为 {shape} 的分数表",
    "ch10.top_head.by_layers": "用层数去还原了；要除以每层的头数（一行的长度，"
                               "scores.shape[1]）。",
    "ch10.top_head.swapped": "(head, layer)：要的是 (layer, head)。",
    "ch10.top_head.not_a_pair": "请给出一对 (layer, head)，你给的是 {answer}。",
    "ch10.top_head.no_such_head": "没有第 {layer} 层的头 {head}：这张表是 {n_layers} 层 × "
                                  "{n_heads} 个头。",
    "ch10.top_head.lower": "第 {layer} 层的头 {head} 得分 {score}；还有更高的。",
    # ---------------------------------------------------------------- 11 · 更快的时钟
    "ch11.accepted_tokens.hint": "从左边开始数有多少个草稿词元等于同一下标处的选择（用 while "
                                 "循环），保留它们，再追加 choices[count]。",
    "ch11.accepted_tokens.no_own_token": "少了模型自己的词元：这次前向计算还会在被接受的草稿之后"
                                         "给出它的选择（一个纠正，或者草稿全对时的一个额外"
                                         "词元）。",
    "ch11.accepted_tokens.after_a_wrong_one": "错误草稿之后的草稿不能保留：它是在一个不会出现在"
                                              "文本里的词元之后读入的。从左边开始接受，遇到第一个"
                                              "不一致就停。",
    "ch11.accepted_tokens.rejected_draft": "在被接受的草稿之后，下一个词元是模型的选择，而不是"
                                           "被拒绝的草稿。",
    "ch11.accepted_tokens.every_choice": "这保留了所有选择；只有*被接受*的草稿之后的选择才有效，"
                                         "其余的是在一个错误词元之后算出来的。",
    "ch11.accepted_tokens.every_draft": "这接受了所有草稿，却没有和模型的选择核对。",
    "ch11.passes.hint": "预填充那一次前向计算给出第一个词元；之后每次给出 k + 1 个词元"
                        "（最后一次向上取整）。",
    "ch11.passes.no_prefill": "少了预填充：它本身就是一次前向计算，而且正好产生一个词元"
                              "（那时还没有可验证的草稿）。",
    "ch11.passes.k_plus_1": "有 k 个正确草稿的一次前向计算会加上 k + 1 个词元：这些草稿，再加上"
                            "模型在它们之后自己的词元。",
    "ch11.passes.round_down": "最后一次可能不到 k + 1 个词元，但它仍然是一次前向计算：要向上取整"
                              "（math.ceil），而不是向下。",
    "ch11.passes.neither": "要算上预填充，之后每次是 k + 1 个词元。",
    "ch11.passes.plain_greedy": "这是普通的贪心解码：每个词元一次前向计算。每次有 k 个正确草稿时"
                                "要少得多。",
    "ch11.block_bytes.hint": "一个块里有 block_size 个权重，每个 bits / 8 个字节，再加上 "
                             "extra_bytes；用块的字节数除以 block_size。",
    "ch11.block_bytes.no_scales": "少了缩放系数：每个块还要存 extra_bytes（Q4_1：一个 float16 的"
                                  "缩放系数和一个 float16 的最小值），由块里的权重共同分担。",
    "ch11.block_bytes.not_shared": "额外的字节由整个块分担：要把它除以 block_size。",
    "ch11.block_bytes.bits_and_bytes": "比特和字节混在一起了：每个权重占 bits / 8 个字节。",
    "ch11.block_bytes.typed_in": "直接写了 32：请用 block_size。",
    "ch11.block_bytes.bits": "这是每个权重的比特数：题目问的是字节数。",
}
