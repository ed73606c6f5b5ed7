# lists: list and dict workload
# 1. build a list of 1,000,000 integers by appending, then sum it
# 2. build a dict of 100,000 string keys -> integers, look each key up and sum
# 3. make 200,000 pseudo-random integers with an LCG, sort them, take a few positions
# then print a checksum
def main():
    n = 1_000_000
    nums = []
    for i in range(n):
        nums.append(i)
    list_sum = 0
    for x in nums:
        list_sum += x

    m = 100_000
    table = {}
    for i in range(m):
        table["k" + str(i)] = i * 2
    dict_sum = 0
    for i in range(m):
        dict_sum += table["k" + str(i)]

    k = 200_000
    rand = []
    seed = 42
    for i in range(k):
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
        rand.append(seed)
    rand.sort()
    sorted_sum = rand[0] + rand[k // 2] + rand[k - 1]

    print(list_sum + dict_sum + sorted_sum + len(nums) + len(table))


main()
